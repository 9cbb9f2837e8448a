"""Fixtures for the patients floor. Identity numbers are Skatteverket test numbers (IDENT-4)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from patients.models import Patient, PatientIdentity, QuarantinedRecord, RegisterFile

# Skatteverket's test personnummer (see /work/shared/data/testpersonnummer.txt); never real ones.
TEST_PERSONNUMMER = (
    "194201077098",
    "194201199124",
    "194202138014",
    "194202269207",
    "194203027018",
    "194203109147",
    "194203138187",
    "194203249034",
    "194204099222",
    "194204159075",
)

# Fictitious locating data. The phone number is in PTS's range reserved for fiction.
LOCATING_VALUES: dict[str, Any] = {
    "registered_address": {
        "care_of": "Anna Andersson",
        "street": "Storgatan 12 lgh 1102",
        "postal_code": "11122",
        "city": "STOCKHOLM",
    },
    "special_postal_address": {
        "street": "Särskild postadress, Box 4711",
        "postal_code": "11199",
        "city": "STOCKHOLM",
    },
    "foreign_address": {
        "lines": ["12 Rue de l'Exemple", "75001 Paris"],
        "country": "Frankrike",
    },
    "municipality_code": "0180",
    "phone": "070-1740605",
}

RECORD_XML = (
    "<Folkbokforingspost><Personpost><PersonId><PersonNr>194201077098</PersonNr></PersonId>"
    "<Adresser><Folkbokforingsadress><Utdelningsadress2>Storgatan 12 lgh 1102"
    "</Utdelningsadress2></Folkbokforingsadress></Adresser></Personpost></Folkbokforingspost>"
)


@pytest.fixture
def make_identity(db: None) -> Callable[..., PatientIdentity]:
    """Create a patient with an identity; each call takes the next test personnummer."""
    numbers: Iterator[str] = iter(TEST_PERSONNUMMER)

    def make(**fields: Any) -> PatientIdentity:
        patient = Patient.objects.create()
        return PatientIdentity.objects.create(
            patient=patient, personal_identity_number=next(numbers), **fields
        )

    return make


@pytest.fixture
def register_file(db: None) -> RegisterFile:
    return RegisterFile.objects.create(
        identity_key="test-order:1",
        file_name="test-navet-file.xml",
        content_sha256="0" * 64,
    )


@pytest.fixture
def make_quarantined(register_file: RegisterFile) -> Callable[..., QuarantinedRecord]:
    positions: Iterator[int] = iter(range(1, 1000))

    def make(record_xml: str = RECORD_XML) -> QuarantinedRecord:
        return QuarantinedRecord.objects.create(
            register_file=register_file,
            position=next(positions),
            reason="test: could not be applied",
            record_xml=record_xml,
        )

    return make
