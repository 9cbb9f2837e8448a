"""The prescriptions admin: phone orders held to PRESC-2, no protected identity in lists."""

from __future__ import annotations

import pytest
from django.conf import settings

from prescriptions.models import DeliveryKind, Prescription, PrescriptionState
from tests.prescriptions.conftest import article
from tests.prescriptions.test_prescription_rules import draft_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def cs_client(client, customer_service):
    customer_service.is_staff = True
    customer_service.save()
    client.force_login(customer_service)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_presc_2_admin_phone_order_form_offers_no_address_and_computes_delivery(
    cs_client, rx, protected_patient
):
    form = cs_client.get("/admin/prescriptions/prescription/add/")
    assert form.status_code == 200
    html = form.content.decode()
    assert "delivery" not in html.lower()
    assert "address" not in html.lower()
    item = article()
    response = cs_client.post(
        "/admin/prescriptions/prescription/add/",
        {
            "patient_reference": protected_patient.reference,
            "ordering_prescriber": rx.pk,
            "ordering_unit": rx.staff_profile.unit_id,
            "article_number": item.article_number,
            "quantity": 1,
            "need": "",
            "urgency": "normal",
        },
    )
    assert response.status_code == 302, [
        line for line in response.content.decode().splitlines() if "errorlist" in line
    ]
    prescription = Prescription.objects.get()
    assert prescription.phone_order
    assert prescription.state == PrescriptionState.APPROVED
    assert prescription.delivery_kind == DeliveryKind.UNIT
    assert prescription.delivery_contact_id == rx.pk


def test_presc_2_admin_list_masks_protected_patient(cs_client, rx, protected_patient, ordinary):
    draft_with(rx, protected_patient, article(), stepped_up=True)
    draft_with(rx, ordinary, article())
    response = cs_client.get("/admin/prescriptions/prescription/")
    html = response.content.decode()
    assert response.status_code == 200
    assert ordinary.reference in html
    assert protected_patient.reference not in html


def test_presc_1_denied_prescriber_gets_no_admin(client, rx):
    client.force_login(rx)
    response = client.get("/admin/prescriptions/prescription/add/")
    assert response.status_code in (302, 403)
