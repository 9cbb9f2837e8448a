"""Order numbers: random, in the shape the forms accept."""

from __future__ import annotations

from prescriptions.forms import PRESCRIPTION_NUMBER
from prescriptions.models.prescription import new_prescription_reference


def test_prescription_numbers_have_the_shape_forms_accept_and_do_not_repeat() -> None:
    numbers = {new_prescription_reference() for _ in range(200)}
    assert len(numbers) == 200
    assert all(PRESCRIPTION_NUMBER.fullmatch(number) for number in numbers)
