"""Fixtures for the patients floor. Identity numbers are Skatteverket test numbers (IDENT-4)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from patients.models import Patient, PatientIdentity, QuarantinedRecord, RegisterFile
from tests.patients.encrypted_columns import RECORD_XML

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
