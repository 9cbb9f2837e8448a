"""Internal references: random, in the shape the forms accept."""

from __future__ import annotations

from patients.models import PATIENT_REFERENCE, new_patient_reference


def test_patient_references_have_the_shape_forms_accept_and_do_not_repeat() -> None:
    references = {new_patient_reference() for _ in range(200)}
    assert len(references) == 200
    assert all(PATIENT_REFERENCE.fullmatch(reference) for reference in references)
