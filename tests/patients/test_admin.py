"""The admin for customer service never shows more of a protected patient than the masked row."""

from __future__ import annotations

import pytest

from tests.factories import PatientIdentityFactory, PatientRelationFactory, UserFactory
from tests.personas import ORDINARY_NUMBER, PROTECTED_NUMBER, logged_in

pytestmark = pytest.mark.django_db


def test_access_1_admin_patient_list_masks_protected_and_linked_patients(client):
    """The protection administrator's list, the only one that holds protected patients (the
    other roles' lists: tests/protection/test_admin_masking.py): reference and birth year."""
    protected = PatientIdentityFactory(personal_identity_number=PROTECTED_NUMBER)
    protected.patient.protected_registration = True
    protected.patient.status = "deceased"
    protected.patient.save()
    relative = PatientIdentityFactory(personal_identity_number="198912232397")
    PatientRelationFactory(patient=protected.patient, related_identity_number="198912232397")
    ordinary = PatientIdentityFactory(personal_identity_number=ORDINARY_NUMBER)
    user = UserFactory(username="skyddsadmin", role="protection_admin", is_staff=True)
    logged_in(client, user)
    page = client.get("/admin/patients/patient/").content.decode()
    rows = {
        identity.patient.reference: page.split(identity.patient.reference, 1)[1].split("</tr>")[0]
        for identity in (protected, relative, ordinary)
    }
    assert "Region Skåne" in rows[ordinary.patient.reference]
    for masked in (protected, relative):
        row = rows[masked.patient.reference]
        assert "Region Skåne" not in row
        assert "Deceased" not in row
        assert "Active" not in row
        assert "1989" in row


def test_access_1_admin_patient_list_needs_the_permission(client):
    client.force_login(UserFactory(username="lager", role="logistics", is_staff=True))
    assert client.get("/admin/patients/patient/").status_code == 403
