"""The prescriptions admin: phone orders held to PRESC-2, no protected identity in lists."""

from __future__ import annotations

import re
import time

import pytest
from django.conf import settings

from patients.models import AccessEntry, AccessOutcome, Patient
from prescriptions.models import DeliveryKind, Prescription, PrescriptionState
from prescriptions.services.drafts import prescription_details_set
from prescriptions.services.region import supply_registration_request
from prescriptions.services.routing import prescription_submit
from protection.gate import STEP_UP_SESSION_KEY
from tests.factories import PatientIdentityFactory
from tests.personas import PROTECTED_NUMBER, ctx_for, give_grant
from tests.prescriptions.conftest import OTHER_REGION, article
from tests.prescriptions.drafting import draft_with

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
            "need": "Behöver rollator inomhus",
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


def test_presc_1_admin_phone_order_without_the_need_shows_it_next_to_the_field(
    cs_client, rx, ordinary
):
    """The submit service refuses an empty need; the phone-order form shows it on the need
    field, keeps what was typed and creates nothing."""
    item = article()
    cs_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
    response = cs_client.post(
        "/admin/prescriptions/prescription/add/",
        {
            "patient_reference": ordinary.reference,
            "ordering_prescriber": rx.pk,
            "ordering_unit": rx.staff_profile.unit_id,
            "article_number": item.article_number,
            "quantity": 3,
            "need": "",
            "urgency": "urgent",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(
        r'<ul class="errorlist" id="id_need_error"><li>'
        r"Beskriv behovet som förskrivningen ska tillgodose\.</li></ul>",
        html,
    ), [line for line in html.splitlines() if "errorlist" in line]
    assert f'value="{item.article_number}"' in html
    assert not Prescription.objects.exists()


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
    # Not staff: the admin answers as it does to anyone without an admin login.
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=")


# --- ACCESS-4, LEAK-1: the admin shows a protected patient to a stepped-up grant holder only ------


def _protected_out_of_region(rx):

    identity = PatientIdentityFactory(
        personal_identity_number=PROTECTED_NUMBER, given_names="Hemlig", surname="Gömdasson"
    )
    Patient.objects.filter(pk=identity.patient_id).update(
        protected_registration=True, home_region_id=OTHER_REGION
    )
    give_grant(rx, identity)
    return identity


def test_access_4_registration_details_in_the_admin_need_step_up_and_are_audited(
    cs_client, rx, customer_service
):
    """A grant holder without step-up sees no details; every opening is logged (AUDIT-1)."""

    identity = _protected_out_of_region(rx)
    give_grant(customer_service, identity)
    ctx = ctx_for(rx, stepped_up=True)
    reference = draft_with(
        rx, identity.patient, article("300", area_code="incontinence", iso9999=""), stepped_up=True
    )
    prescription_submit(ctx=ctx, reference=reference)
    registration = supply_registration_request(
        ctx=ctx, reference=reference, identity_number=PROTECTED_NUMBER, name="Hemlig Gömdasson"
    )
    url = f"/admin/prescriptions/supplyregistration/{registration.pk}/change/"
    page = cs_client.get(url).content.decode()
    assert PROTECTED_NUMBER not in page
    assert "Gömdasson" not in page
    entry = AccessEntry.objects.filter(patient_id=identity.patient_id).latest("pk")
    assert entry.outcome == AccessOutcome.DENIED
    session = cs_client.session
    session[STEP_UP_SESSION_KEY] = time.time()
    session.save()
    page = cs_client.get(url).content.decode()
    assert PROTECTED_NUMBER in page
    entry = AccessEntry.objects.filter(patient_id=identity.patient_id).latest("pk")
    assert entry.outcome == AccessOutcome.ALLOWED


def test_presc_2_masked_admin_rows_hide_unit_prescriber_region_and_free_text(cs_client, rx):
    """LEAK-1: customer service without a grant learns nothing of where the patient is cared for,
    and cannot filter orders by patient."""

    identity = _protected_out_of_region(rx)
    reference = draft_with(rx, identity.patient, article("300"), stepped_up=True)
    prescription_details_set(
        ctx=ctx_for(rx, stepped_up=True), reference=reference, need="Rollator till trapphuset"
    )
    prescription = prescription_submit(ctx=ctx_for(rx, stepped_up=True), reference=reference)
    assert prescription.state == PrescriptionState.APPROVED
    unit_name = prescription.unit.unit.name
    page = cs_client.get(f"/admin/prescriptions/prescription/{prescription.pk}/change/")
    html = page.content.decode()
    assert unit_name not in html
    assert "trapphuset" not in html
    assert "home_region" not in html
    listing = cs_client.get("/admin/prescriptions/prescription/").content.decode()
    assert unit_name not in listing
    marks = cs_client.get("/admin/prescriptions/invoicemark/").content.decode()
    assert reference in marks
    assert "Stockholm" not in marks
    filtered = cs_client.get(f"/admin/prescriptions/prescription/?patient={identity.patient_id}")
    assert filtered.status_code == 400
    filtered = cs_client.get(
        f"/admin/prescriptions/invoicemark/?prescription__patient={identity.patient_id}"
    )
    assert filtered.status_code == 400
    filtered = cs_client.get(
        f"/admin/prescriptions/consultationactivity/?patient={identity.patient_id}"
    )
    assert filtered.status_code == 400
