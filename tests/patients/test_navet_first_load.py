"""A first load into an empty register builds the number indexes after the load (issue 16,
patients migration 0013): the same outcome as the ordinary import, the same indexes after it,
and the ordinary import whenever the register is not empty or the file names a person twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from patients.models import Patient, PatientIdentity, PatientRelation
from patients.navet import importer
from tests.conftest import SAMPLE_NAVET
from tests.patients.test_navet_import import KARL, OTHER, SPOUSE, identity, navet, post, run

pytestmark = pytest.mark.django_db

NUMBER_INDEXES = {"identity_number_unique", "relation_unique", "relation_number_idx"}


def _indexes() -> dict[str, str]:
    """Every index of the identity and relation tables, by name, as PostgreSQL defines it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN "
            "('patients_patientidentity', 'patients_patientrelation')"
        )
        return dict(cursor.fetchall())


def _statements(captured: CaptureQueriesContext) -> str:
    return "\n".join(query["sql"] for query in captured.captured_queries)


def test_first_load_builds_the_number_indexes_after_the_load_and_they_are_as_migrated():
    migrated = _indexes()
    assert set(migrated) >= NUMBER_INDEXES
    with CaptureQueriesContext(connection) as captured:
        code, summary, _ = run(SAMPLE_NAVET)
    assert (code, summary["created"], summary["protection_added"]) == (0, 6, 3)
    statements = _statements(captured)
    assert "navet_first_load_begin()" in statements
    assert "navet_first_load_end()" in statements
    # No number looked up: every record of a first load is new.
    assert "= ANY(" not in statements.split("navet_first_load_begin()")[1]
    assert _indexes() == migrated
    assert identity(KARL).surname == "Lindqvist"
    assert PatientRelation.objects.get().related_identity_number == SPOUSE


def test_an_ordinary_import_into_a_register_with_patients_keeps_its_indexes(tmp_path):
    run(navet(tmp_path / "1.xml", post(OTHER), order="A-1"))
    migrated = _indexes()
    with CaptureQueriesContext(connection) as captured:
        _, summary, _ = run(navet(tmp_path / "2.xml", post(KARL), order="A-2"))
    assert summary["created"] == 1
    statements = _statements(captured)
    assert "navet_first_load_begin()" in statements  # asked, and refused: not empty
    assert "navet_first_load_end()" not in statements
    assert _indexes() == migrated


def test_begin_refuses_a_register_with_a_patient_and_drops_nothing(tmp_path):
    run(navet(tmp_path / "1.xml", post(OTHER), order="A-1"))
    migrated = _indexes()
    with connection.cursor() as cursor:
        cursor.execute("SELECT navet_first_load_begin()")
        assert cursor.fetchone() == (False,)
    assert _indexes() == migrated


def test_a_person_twice_in_batches_apart_falls_back_to_the_ordinary_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # Batches of one: the second record of OTHER is in another batch, so only the unique
    # build at the end finds it; the attempt is undone and the file applied in order.
    monkeypatch.setattr(importer, "BATCH_SIZE", 1)
    migrated = _indexes()
    path = navet(
        tmp_path / "dup.xml",
        post(OTHER, street="Först 1"),
        post(KARL),
        post(OTHER, street="Sist 2"),
    )
    code, summary, _ = run(path)
    assert code == 0
    assert (summary["records"], summary["created"], summary["updated"]) == (3, 2, 1)
    assert identity(OTHER).registered_address["street2"] == "Sist 2"
    assert Patient.objects.count() == PatientIdentity.objects.count() == 2
    assert _indexes() == migrated


def test_a_person_twice_in_one_batch_falls_back_to_the_ordinary_import(tmp_path):
    migrated = _indexes()
    path = navet(tmp_path / "dup.xml", post(OTHER, street="Först 1"), post(OTHER, street="Sist 2"))
    _, summary, _ = run(path)
    assert (summary["records"], summary["created"], summary["updated"]) == (2, 1, 1)
    assert identity(OTHER).registered_address["street2"] == "Sist 2"
    assert _indexes() == migrated


def test_a_referral_in_a_first_load_moves_the_patient_loaded_before_it(tmp_path):
    path = navet(tmp_path / "1.xml", post(KARL), post(OTHER), post(OTHER, referral=SPOUSE))
    code, summary, _ = run(path)
    assert code == 0
    assert (summary["records"], summary["created"], summary["updated"]) == (3, 2, 1)
    assert identity(SPOUSE).patient.birth_year == 1942
    assert not PatientIdentity.objects.filter(personal_identity_number=OTHER).exists()
    assert Patient.objects.count() == 2


def test_a_first_load_refused_half_way_keeps_nothing_and_its_indexes(tmp_path):
    migrated = _indexes()
    text = navet(tmp_path / "good.xml", post(OTHER), post(SPOUSE), post(KARL)).read_text()
    broken = tmp_path / "broken.xml"
    broken.write_text(text[: int(len(text) * 0.8)])
    code, _, _ = run(broken)
    assert code == 2
    assert Patient.objects.count() == 0
    assert _indexes() == migrated
