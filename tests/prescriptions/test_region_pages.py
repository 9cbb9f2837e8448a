"""The prescriber's pages for REGION-3 (registration with customer service), REGION-5 (residence
abroad) and REGION-4 (deactivation after invoicing) in the admin. Each flow, each refusal on
the page, a pinned query count. The special delivery agreement's pages are in
test_special_delivery_pages.py, the denied paths and LEAK-1 in test_region_pages_denied.py.
Identity numbers are Skatteverket's test numbers (IDENT-4)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from patients.models import AccessAction, AccessEntry, Patient
from prescriptions.models import (
    CareEpisode,
    InvoiceMark,
    Payer,
    Prescription,
    PrescriptionState,
    RegistrationState,
    ResidenceAbroad,
    SupplyRegistration,
)
from prescriptions.services.errors import PrescriptionError
from prescriptions.services.region import (
    out_of_region_deactivate,
    supply_registration_clear,
    supply_registration_request,
)
from tests.factories import UserFactory
from tests.personas import PROTECTED_NUMBER, ctx_for, logged_in
from tests.prescriptions.conftest import OTHER_NUMBER, article
from tests.prescriptions.drafting import NOT_WAITING
from tests.prescriptions.factories import PrescribingUnitFactory
from tests.prescriptions.leaks import SECRET_ADDRESS
from tests.prescriptions.pages import add, awaiting_registration, page, staff, start, submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """The services' messages are matched in English; a request's language ends with the
    request (config/middleware.py), so without this they come out in the project's Swedish."""
    with translation.override("en"):
        yield


S = PrescriptionState


# --- REGION-3 ---------------------------------------------------------------------------------


def test_region_3_registration_sent_from_the_page_and_cleared_by_customer_service_in_the_admin(
    rx_client, out_of_region, customer_service
):
    """REGION-3: the page is prefilled from the register, the personnummer is shown and never a
    field; sent, it waits for customer service, who clears it in the admin; the prescription
    goes on and the page says so."""
    number = awaiting_registration(rx_client, out_of_region)
    assert f'href="/prescriptions/{number}/registration/"' in page(rx_client, number)
    content = rx_client.get(f"/prescriptions/{number}/registration/").content.decode()
    assert "19891223-2397" in content
    assert 'name="identity_number"' not in content
    assert 'value="Testa Testsson"' in content
    assert 'value="Provgatan 1"' in content
    assert 'value="21100"' in content
    assert 'value="MALMÖ"' in content
    assert "Not sent" in content

    response = rx_client.post(
        f"/prescriptions/{number}/registration/",
        {"name": "Testa Testsson", "care_of": "Berg", "street": "Provgatan 1",
         "postal_code": "211 00", "town": "Malmö", "phone": "0701234567", "door_code": "1234",
         # A number in the POST is not the registration's: the register's number is.
         "identity_number": PROTECTED_NUMBER},
    )  # fmt: skip
    assert response.status_code == 302
    registration = SupplyRegistration.objects.get()
    assert registration.identity_number == OTHER_NUMBER
    assert registration.address == {
        "care_of": "Berg",
        "street": "Provgatan 1",
        "postal_code": "211 00",
        "town": "Malmö",
    }
    content = rx_client.get(f"/prescriptions/{number}/registration/").content.decode()
    assert "Waiting for customer service" in content
    assert "c/o Berg" in content
    assert 'name="street"' not in content  # sent once: no second form

    cs = Client()
    logged_in(cs, staff(customer_service))
    response = cs.post(
        "/admin/prescriptions/supplyregistration/",
        {"action": "clear_selected", "_selected_action": [registration.pk]},
    )
    assert response.status_code == 302
    assert Prescription.objects.get(reference=number).state == S.APPROVED
    content = rx_client.get(f"/prescriptions/{number}/registration/").content.decode()
    assert "Cleared" in content
    assert "the prescription goes on" in content


def test_region_3_error_summary_names_the_field(rx_client, out_of_region):
    number = awaiting_registration(rx_client, out_of_region)
    response = rx_client.post(
        f"/prescriptions/{number}/registration/",
        {"name": "Testa Testsson", "street": "", "postal_code": "2110", "town": "Malmö"},
    )
    content = response.content.decode()
    assert response.status_code == 400
    assert 'class="aksel-error-summary" role="alert"' in content
    assert re.search(r'<a class="aksel-link" href="#id_street">Street address: ', content)
    assert re.search(r'<a class="aksel-link" href="#id_postal_code">Postal code: ', content)
    assert not SupplyRegistration.objects.exists()


def test_region_3_the_service_refuses_a_number_other_than_the_patients_own(rx, out_of_region):
    ctx = ctx_for(rx)
    from prescriptions.services.drafts import prescription_draft_start

    number = prescription_draft_start(ctx=ctx, patient_reference=out_of_region.reference).reference
    with pytest.raises(PrescriptionError, match="own"):
        supply_registration_request(
            ctx=ctx, reference=number, name="X", identity_number=PROTECTED_NUMBER, street="G 1",
            postal_code="21100", town="Malmö",
        )  # fmt: skip
    assert not SupplyRegistration.objects.exists()


def test_region_3_protected_patient_form_collects_no_address_phone_or_door_code(client, rx, hidden):
    """REGION-3 with LEAK-3 and PRESC-2: for a protected patient the form has the name only (the
    number shown from the register); nothing that locates the person is collected or stored,
    even when a forged POST sends it."""
    logged_in(client, rx, stepped_up=True)
    number = awaiting_registration(client, hidden)
    content = client.get(f"/prescriptions/{number}/registration/").content.decode()
    for name in ("care_of", "street", "postal_code", "town", "phone", "door_code"):
        assert f'name="{name}"' not in content, name
    assert SECRET_ADDRESS not in content
    assert "no address, phone or door code" in content
    response = client.post(
        f"/prescriptions/{number}/registration/",
        {"name": "Hemlig Gömdasson", "street": SECRET_ADDRESS, "phone": "0701234567"},
    )
    assert response.status_code == 302
    registration = SupplyRegistration.objects.get()
    assert (registration.address, registration.phone, registration.door_code) == (None, None, None)
    assert registration.identity_number == PROTECTED_NUMBER


def test_audit_1_each_read_of_a_registration_is_logged(rx_client, out_of_region):
    number = awaiting_registration(rx_client, out_of_region)
    rx_client.post(
        f"/prescriptions/{number}/registration/",
        {"name": "T", "street": "Provgatan 1", "postal_code": "21100", "town": "Malmö"},
    )
    registration = SupplyRegistration.objects.get()
    entries = AccessEntry.objects.filter(
        object_type="supply_registration", object_id=str(registration.pk), action=AccessAction.READ
    )
    before = entries.count()
    rx_client.get(f"/prescriptions/{number}/registration/")
    assert entries.count() == before + 1


def test_region_3_no_form_for_a_prescription_that_waits_for_no_registration(rx_client, ordinary):
    number = start(rx_client, ordinary)
    add(rx_client, number, article("900").pk)
    submit(rx_client, number)
    content = rx_client.get(f"/prescriptions/{number}/registration/").content.decode()
    assert "does not wait for a registration" in content
    assert 'name="name"' not in content
    response = rx_client.post(
        f"/prescriptions/{number}/registration/",
        {"name": "T", "street": "G 1", "postal_code": "21100", "town": "Malmö"},
    )
    assert response.status_code == 404
    assert not SupplyRegistration.objects.exists()


# --- REGION-5 ---------------------------------------------------------------------------------


def residence(client: Client, patient: Patient, **data: Any) -> Any:
    return client.post(f"/prescriptions/patients/{patient.reference}/abroad/", data)


def test_region_5_residence_recorded_from_the_devices_page_and_shown_in_the_outcome(
    rx_client, rx, ordinary
):
    """REGION-5: recorded from the patient's devices page on the care episode at the
    prescriber's unit; the next submit evaluates it and the outcome shows why."""
    content = rx_client.get(f"/prescriptions/patients/{ordinary.reference}/").content.decode()
    assert f'href="/prescriptions/patients/{ordinary.reference}/abroad/"' in content
    until = (timezone.localdate() + timedelta(days=90)).isoformat()
    response = residence(
        rx_client, ordinary, country="de", country_group="eu_eea_ch", certificate="ehic",
        certificate_valid_until=until,
    )  # fmt: skip
    assert response.status_code == 302
    recorded = ResidenceAbroad.objects.get()
    assert recorded.country == "DE"
    assert str(recorded.certificate_valid_until) == until
    assert recorded.episode.unit_id == rx.prescriber_profile.units.get().pk
    content = rx_client.get(f"/prescriptions/patients/{ordinary.reference}/abroad/").content
    assert "European health insurance card" in content.decode()

    number = start(rx_client, ordinary)
    assert Prescription.objects.get(reference=number).episode_id == recorded.episode_id
    add(rx_client, number, article("1200").pk)
    submit(rx_client, number)
    content = page(rx_client, number)
    assert re.search(r"Resident abroad</th><td[^>]*>Yes</td>", content)
    assert re.search(r"Valid certificate</th><td[^>]*>Yes</td>", content)
    # The rule behind each, in the auditors' detail.
    assert re.search(r"Resident abroad</th><td[^>]*>REGION-5</td>", content)
    assert not InvoiceMark.objects.filter(prescription__reference=number).exists()


def test_region_5_expired_certificate_the_patient_pays_the_prescribing_unit(
    rx_client, rx, ordinary
):
    """REGION-5: an expired certificate counts as none; the patient's own payment goes to the
    prescriber's unit."""
    residence(
        rx_client, ordinary, country="NO", country_group="nordic", certificate="nordic_id",
        certificate_valid_until=(timezone.localdate() - timedelta(days=1)).isoformat(),
    )  # fmt: skip
    number = start(rx_client, ordinary)
    add(rx_client, number, article("1200").pk)
    submit(rx_client, number)
    mark = InvoiceMark.objects.get(prescription__reference=number)
    assert (mark.payer, mark.payee_unit_id) == (Payer.PATIENT_AT_UNIT, mark.prescription.unit_id)
    content = page(rx_client, number)
    assert re.search(r"Valid certificate</th><td[^>]*>No</td>", content)
    assert re.search(r"The patient pays the prescribing unit</th><td[^>]*>Yes</td>", content)


def test_region_5_errors_name_the_field(rx_client, ordinary):
    response = residence(rx_client, ordinary, country="Germany", certificate="ehic")
    content = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'<a class="aksel-link" href="#id_country">Country: ', content)
    assert re.search(r'<a [^>]*href="#id_country_group[_0]*">Country group: ', content)
    # A certificate without its validity is refused by the service, shown on the form.
    response = residence(rx_client, ordinary, country="DE", country_group="eu_eea_ch",
                         certificate="s1")  # fmt: skip
    assert response.status_code == 400
    assert "Valid until" in response.content.decode()
    assert not ResidenceAbroad.objects.exists()


def test_region_5_residence_list_query_count_is_pinned(
    rx_client, rx, ordinary, django_assert_num_queries
):
    url = f"/prescriptions/patients/{ordinary.reference}/abroad/"
    residence(rx_client, ordinary, country="US", country_group="other", certificate="none")
    with django_assert_num_queries(RESIDENCE_PAGE_QUERIES):
        rx_client.get(url)
    for _ in range(3):  # the same patient's episodes at other units
        episode = CareEpisode.objects.create(patient=ordinary, unit=PrescribingUnitFactory())
        ResidenceAbroad.objects.create(
            episode=episode, country="US", country_group="other", certificate="none",
            recorded_by=rx,
        )  # fmt: skip
    with django_assert_num_queries(RESIDENCE_PAGE_QUERIES):
        content = rx_client.get(url).content.decode()
    assert content.count('<td class="aksel-table__data-cell">US</td>') == 4


# --- REGION-4 -----------------------------------------------------------------------------------


def test_region_4_deactivated_after_invoicing_and_the_paying_region_checked_again_on_return(
    rx, out_of_region, customer_service
):
    """REGION-4: customer service deactivates an invoiced out-of-region diabetes patient in the
    admin (refused before invoicing); the episode closes and the registration is deactivated.
    The patient returns registered in a third region: the new episode reads the register again,
    and a new registration must be cleared before anything is handed out."""
    client = logged_in(Client(), rx)
    number = awaiting_registration(client, out_of_region)
    ctx = ctx_for(rx)
    registration = supply_registration_request(
        ctx=ctx, reference=number, name="T", street="G 1", postal_code="21100", town="Malmö"
    )
    supply_registration_clear(ctx=ctx_for(customer_service), registration_id=registration.pk)
    mark = InvoiceMark.objects.get(prescription__reference=number)
    assert mark.deactivate_after_invoicing

    cs = logged_in(Client(), staff(customer_service))
    action = {"action": "deactivate_selected", "_selected_action": [mark.pk]}
    response = cs.post("/admin/prescriptions/invoicemark/", action, follow=True)
    assert "not invoiced yet" in response.content.decode()
    registration.refresh_from_db()
    assert registration.state == RegistrationState.CLEARED

    InvoiceMark.objects.filter(pk=mark.pk).update(invoiced_at=timezone.now())
    response = cs.post("/admin/prescriptions/invoicemark/", action, follow=True)
    assert "1 patients deactivated" in response.content.decode()
    registration.refresh_from_db()
    assert registration.state == RegistrationState.DEACTIVATED
    assert registration.deactivated_at is not None
    # House style 4: the deactivation is a move of the registration, with its history row.
    assert list(
        registration.transitions.values_list("from_state", "to_state", "by_id", "note")
    ) == [
        ("", RegistrationState.REQUESTED, rx.pk, "REGION-3"),
        (RegistrationState.REQUESTED, RegistrationState.CLEARED, customer_service.pk, "REGION-3"),
        (RegistrationState.CLEARED, RegistrationState.DEACTIVATED, customer_service.pk, "REGION-4"),
    ]
    old_episode = Prescription.objects.get(reference=number).episode
    assert old_episode.closed_at is not None
    with pytest.raises(PrescriptionError, match="already deactivated"):
        out_of_region_deactivate(ctx=ctx_for(customer_service), invoice_mark_id=mark.pk)
    with pytest.raises(PrescriptionError, match=NOT_WAITING):
        supply_registration_clear(ctx=ctx_for(customer_service), registration_id=registration.pk)
    assert registration.transitions.count() == 3

    Patient.objects.filter(pk=out_of_region.pk).update(home_region_id="03")
    again = awaiting_registration(client, out_of_region)
    episode = Prescription.objects.get(reference=again).episode
    assert episode.pk != old_episode.pk
    assert episode.home_region_id == "03"
    assert "Not sent" in client.get(f"/prescriptions/{again}/registration/").content.decode()


def test_region_4_only_customer_service_and_only_marked_prescriptions(
    rx, out_of_region, customer_service
):
    client = logged_in(Client(), rx)
    number = start(client, out_of_region)
    add(client, number, article("900").pk)  # mobility: not deactivated after invoicing
    submit(client, number)
    mark = InvoiceMark.objects.get(prescription__reference=number)
    assert not mark.deactivate_after_invoicing
    InvoiceMark.objects.filter(pk=mark.pk).update(invoiced_at=timezone.now())
    with pytest.raises(PrescriptionError, match="customer service"):
        out_of_region_deactivate(ctx=ctx_for(rx), invoice_mark_id=mark.pk)
    with pytest.raises(PrescriptionError, match="hearing, diabetes and incontinence"):
        out_of_region_deactivate(ctx=ctx_for(customer_service), invoice_mark_id=mark.pk)
    billing = logged_in(Client(), staff(UserFactory(role="billing")))
    response = billing.get("/admin/prescriptions/invoicemark/")
    assert "deactivate_selected" not in response.content.decode()


# Pinned: session, user, the gate (patient, grants, step-up, access entry), the residences.
RESIDENCE_PAGE_QUERIES = 8  # was 10 (issue 16: the backend, the guards with the patient)
