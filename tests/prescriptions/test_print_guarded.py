"""PRINT-1 and PROT-5 on the prescriber's pages: a person the register links to a protected
patient (a guardian) is shown in full after the grant for the protected patient and step-up,
but the page still concerns the protected patient's family. It prints only the notice, and the
prescription page never shows the guardian's registered address (likely where the protected
child lives). The residence-abroad page prints only the notice for a protected patient."""

from __future__ import annotations

from typing import Any, cast

import pytest
from django.test import Client

from patients.models import Patient, PatientIdentity
from prescriptions.models import DeliveryKind, Prescription
from tests.factories import PatientIdentityFactory, PatientRelationFactory
from tests.personas import PROTECTED_NUMBER, logged_in
from tests.prescriptions.conftest import article
from tests.prescriptions.drafting import draft_with

pytestmark = pytest.mark.django_db

PRINT_SHEET = "css/print-protected.css"
NOTICE = 'class="print-notice"'
GUARDIAN_NUMBER = "197501079292"
GUARDIAN_STREET = "Vårdnadshavargatan 7"
ORDINARY_STREET = "Vanliga vägen 3"


def _guardian() -> Patient:
    identity = cast(
        PatientIdentity,
        PatientIdentityFactory(
            personal_identity_number=GUARDIAN_NUMBER,
            surname="Föräldersson",
            registered_address={
                "street2": GUARDIAN_STREET,
                "postal_code": "21120",
                "city": "MALMÖ",
            },
        ),
    )
    return identity.patient


def _link(guardian: Patient) -> None:
    PatientRelationFactory(patient=guardian, related_identity_number=PROTECTED_NUMBER)
    assert not guardian.is_protected


@pytest.fixture
def guardian(hidden: Patient) -> Patient:
    patient = _guardian()
    _link(patient)
    return patient


def _get(client: Client, rx: Any, url: str) -> str:
    response = logged_in(client, rx, stepped_up=True).get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_print_1_prot_5_guardians_patient_page_prints_only_a_notice(client: Client, rx, guardian):
    text = _get(client, rx, f"/prescriptions/patients/{guardian.reference}/")
    assert "Föräldersson" in text
    assert PRINT_SHEET in text
    assert NOTICE in text


def test_print_1_prot_5_guardians_prescription_hides_the_registered_address(
    client: Client, rx, hidden
):
    """The register links the guardian after the prescription was drafted to their address:
    the page names the guardian but not where they live."""
    guardian = _guardian()
    reference = draft_with(rx, guardian, article())
    _link(guardian)
    prescription = Prescription.objects.get(reference=reference)
    assert prescription.delivery_kind == DeliveryKind.PATIENT_ADDRESS
    text = _get(client, rx, f"/prescriptions/{reference}/")
    assert "Föräldersson" in text
    assert GUARDIAN_STREET not in text
    assert PRINT_SHEET in text
    assert NOTICE in text


def test_print_1_ordinary_prescription_shows_the_address_and_prints(client: Client, rx, ordinary):
    PatientIdentity.objects.filter(patient=ordinary).update(
        registered_address={"street2": ORDINARY_STREET, "postal_code": "21120", "city": "MALMÖ"}
    )
    reference = draft_with(rx, ordinary, article())
    text = _get(client, rx, f"/prescriptions/{reference}/")
    assert ORDINARY_STREET in text
    assert PRINT_SHEET not in text
    assert NOTICE not in text


def test_print_1_residence_page_prints_only_a_notice_for_a_protected_patient(
    client: Client, rx, hidden
):
    text = _get(client, rx, f"/prescriptions/patients/{hidden.reference}/abroad/")
    assert hidden.identity.surname in text
    assert PRINT_SHEET in text
    assert NOTICE in text


def test_print_1_residence_page_of_an_ordinary_patient_prints(client: Client, rx, ordinary):
    text = _get(client, rx, f"/prescriptions/patients/{ordinary.reference}/abroad/")
    assert PRINT_SHEET not in text
    assert NOTICE not in text
