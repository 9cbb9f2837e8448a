"""Fixtures for the document pipeline. Identity numbers are Skatteverket test numbers (IDENT-4)."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.utils import translation
from pypdf import PdfReader

from protection.documents import services
from protection.models import Document, DocumentJob
from tests.factories import PatientIdentityFactory, UnitFactory, UserFactory
from tests.personas import ORDINARY_NUMBER, give_grant

RESERVE_ONLY_NUMBER = "22950606FH22"  # Inera's national reservnummer format (IDENT-2)


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def pdf_pages(content: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages]


def render(job: DocumentJob) -> str:
    """Run the render task's body in this process (the worker tests use a real worker)."""
    return services.document_job_render(job_id=job.pk)


def stored_pdf(job: DocumentJob) -> bytes:
    document = Document.objects.get(pk=job.pk)
    assert document.content is not None
    return bytes(document.content)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def unit():
    return UnitFactory(name="Rehabenheten Syd")


@pytest.fixture
def prescriber(unit):
    return UserFactory(username="petra", role="prescriber", unit=unit)


@pytest.fixture
def ordinary():
    return PatientIdentityFactory(
        personal_identity_number=ORDINARY_NUMBER,
        given_names="Karin",
        surname="Nilsson",
        registered_address={"street2": "Provgatan 1", "postal_code": "21100", "city": "MALMÖ"},
    )


@pytest.fixture
def granted(prescriber, protected):
    give_grant(prescriber, protected)
    return protected


@pytest.fixture
def reserve_only(prescriber):
    identity = PatientIdentityFactory(
        personal_identity_number=None,
        reserve_number=RESERVE_ONLY_NUMBER,
        given_names="Rut",
        surname="Reservsson",
        registered_address=None,
        patient__birth_year=1950,
    )
    identity.patient.reserve_number_protection = True
    identity.patient.save()
    identity.patient.refresh_from_db()
    give_grant(prescriber, identity)
    return identity


@pytest.fixture
def language_is_swedish_by_default():
    assert settings.LANGUAGE_CODE == "sv"
