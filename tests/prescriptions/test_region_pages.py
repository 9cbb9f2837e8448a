"""The prescriber's pages for REGION-3 (registration with customer service), REGION-5 (residence
abroad) and LEAK-3 (the special delivery agreement, the one exception to PRESC-2), and REGION-4
(deactivation after invoicing) in the admin. Each flow, each refusal on the page, a denied test
for every view, LEAK-1 for users without a grant, pinned query counts. Identity numbers are
Skatteverket's test numbers (IDENT-4)."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from patients.models import AccessAction, AccessEntry, Patient, PatientIdentity
from prescriptions.models import (
    CareEpisode,
    DeliveryKind,
    InvoiceMark,
    Payer,
    Prescription,
    PrescriptionState,
    RegistrationState,
    ResidenceAbroad,
    SpecialDeliveryAgreement,
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
from tests.prescriptions.conftest import OTHER_NUMBER, OTHER_REGION, article
from tests.prescriptions.factories import PrescriberProfileFactory, PrescribingUnitFactory
from tests.prescriptions.test_prescription_rules import NOT_WAITING
from tests.prescriptions.test_views import add, page, start

pytestmark = pytest.mark.django_db
S = PrescriptionState
PASSWORD = "pw-for-tests-only"

# What locates or names the protected patient in these tests; none of it may reach a user
# without a grant (LEAK-1, LEAK-3).
SECRET_NAME = ("Hemlig", "Gömdasson")
SECRET_ADDRESS = "Gömdavägen 7"
AGREEMENT = {
    "address": "Hemliga gränd 3, 211 99 Skuggby",
    "phone": "070-111 22 33",
    "door_code": "Portkod 9931X",
    "instructions": "Ring på hos grannen Skuggsson",
}
SECRETS = (
    *SECRET_NAME,
    SECRET_ADDRESS,
    PROTECTED_NUMBER,
    f"{PROTECTED_NUMBER[:8]}-{PROTECTED_NUMBER[8:]}",
    PROTECTED_NUMBER[2:],
    "Hemliga gränd",
    "Skuggby",
    "111 22 33",
    "9931X",
    "Skuggsson",
)


def leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def diabetes() -> Any:
    return article("300", area_code="diabetes", iso9999="")


@pytest.fixture
def rx_client(client: Client, rx: Any) -> Client:
    logged_in(client, rx)
    return client


@pytest.fixture
def hidden(protected_patient: Patient) -> Patient:
    """The protected patient (``rx`` holds a grant), registered in another region, with a name
    and an address the leak checks look for."""
    PatientIdentity.objects.filter(patient=protected_patient).update(
        given_names=SECRET_NAME[0],
        surname=SECRET_NAME[1],
        registered_address={"street2": SECRET_ADDRESS, "postal_code": "21120", "city": "MALMÖ"},
    )
    Patient.objects.filter(pk=protected_patient.pk).update(home_region_id=OTHER_REGION)
    protected_patient.refresh_from_db()
    return protected_patient


def awaiting_registration(client: Client, patient: Patient) -> str:
    number = start(client, patient)
    assert add(client, number, diabetes().pk).status_code == 302
    assert client.post(f"/prescriptions/{number}/submit/").status_code == 302
    assert Prescription.objects.get(reference=number).state == S.AWAITING_REGISTRATION
    return number


def staff(user: Any) -> Any:
    user.is_staff = True
    user.save()
    return user


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
    assert 'class="error-summary" role="alert"' in content
    assert re.search(r'<a href="#id_street">Street address: ', content)
    assert re.search(r'<a href="#id_postal_code">Postal code: ', content)
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
    rx_client.post(f"/prescriptions/{number}/submit/")
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
    rx_client.post(f"/prescriptions/{number}/submit/")
    content = page(rx_client, number)
    assert re.search(r"Resident abroad</th><td>Yes</td><td>REGION-5", content)
    assert re.search(r"Valid certificate</th><td>Yes</td><td>REGION-5", content)
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
    rx_client.post(f"/prescriptions/{number}/submit/")
    mark = InvoiceMark.objects.get(prescription__reference=number)
    assert (mark.payer, mark.payee_unit_id) == (Payer.PATIENT_AT_UNIT, mark.prescription.unit_id)
    content = page(rx_client, number)
    assert re.search(r"Valid certificate</th><td>No</td>", content)
    assert re.search(r"The patient pays the prescribing unit</th><td>Yes</td>", content)


def test_region_5_errors_name_the_field(rx_client, ordinary):
    response = residence(rx_client, ordinary, country="Germany", certificate="ehic")
    content = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'<a href="#id_country">Country: ', content)
    assert re.search(r'<a href="#id_country_group[_0]*">Country group: ', content)
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
    assert content.count("<td>US</td>") == 4


# --- LEAK-3: the special delivery agreement -----------------------------------------------------


def record_agreement(client: Client, patient: Patient) -> Any:
    return client.post(f"/prescriptions/patients/{patient.reference}/special-delivery/", AGREEMENT)


def test_leak_3_grant_holder_records_the_agreement_encrypted_at_rest_every_read_audited(
    client, rx, hidden
):
    logged_in(client, rx, stepped_up=True)
    url = f"/prescriptions/patients/{hidden.reference}/special-delivery/"
    devices = client.get(f"/prescriptions/patients/{hidden.reference}/").content.decode()
    assert f'href="{url}"' in devices
    assert "No special delivery agreement is recorded." in client.get(url).content.decode()
    assert record_agreement(client, hidden).status_code == 302
    agreement = SpecialDeliveryAgreement.objects.get()
    assert agreement.details == AGREEMENT
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT details::text FROM prescriptions_specialdeliveryagreement WHERE id = %s",
            [agreement.pk],
        )
        stored = cursor.fetchone()[0]
    assert leaks(stored) == []

    reads = AccessEntry.objects.filter(
        object_type="special_delivery_agreement", object_id=str(agreement.pk)
    )
    assert reads.filter(action=AccessAction.CHANGE).count() == 1
    before = reads.filter(action=AccessAction.READ).count()
    content = client.get(url).content.decode()
    assert "Hemliga gränd 3" in content
    assert "Portkod 9931X" in content
    assert reads.filter(action=AccessAction.READ).count() == before + 1
    assert all(entry.patient_protected for entry in reads)


def test_leak_3_a_new_agreement_ends_the_earlier_one(client, rx, hidden):
    logged_in(client, rx, stepped_up=True)
    record_agreement(client, hidden)
    client.post(
        f"/prescriptions/patients/{hidden.reference}/special-delivery/",
        {"address": "Annan väg 1"},
    )
    assert SpecialDeliveryAgreement.objects.filter(ended_at__isnull=True).count() == 1
    assert SpecialDeliveryAgreement.objects.count() == 2


def test_leak_3_agreement_error_summary_names_the_field(client, rx, hidden):
    logged_in(client, rx, stepped_up=True)
    response = client.post(
        f"/prescriptions/patients/{hidden.reference}/special-delivery/", {"phone": "1"}
    )
    assert response.status_code == 400
    assert re.search(r'<a href="#id_address">Delivery address: ', response.content.decode())
    assert not SpecialDeliveryAgreement.objects.exists()


def test_leak_3_no_agreement_page_for_an_ordinary_patient(rx_client, ordinary):
    url = f"/prescriptions/patients/{ordinary.reference}/special-delivery/"
    assert rx_client.get(url).status_code == 404
    assert rx_client.post(url, AGREEMENT).status_code == 404
    devices = rx_client.get(f"/prescriptions/patients/{ordinary.reference}/").content.decode()
    assert "special-delivery" not in devices


def test_presc_2_protected_draft_follows_the_agreement_and_the_page_shows_only_that_it_exists(
    client, rx, hidden
):
    """PRESC-2's one exception (LEAK-3): the grant holder chooses the agreement for the draft;
    the prescription page says the delivery follows an agreement and shows none of it."""
    logged_in(client, rx, stepped_up=True)
    number = start(client, hidden)
    choice = f"/prescriptions/{number}/special-delivery/"
    assert f'href="{choice}"' in page(client, number)
    response = client.post(choice, {"kind": "special_agreement"})
    assert response.status_code == 400
    assert "no special delivery agreement in force" in response.content.decode()

    record_agreement(client, hidden)
    assert "Hemliga gränd 3" in client.get(choice).content.decode()
    assert client.post(choice, {"kind": "special_agreement"}).status_code == 302
    prescription = Prescription.objects.get(reference=number)
    agreement = SpecialDeliveryAgreement.objects.get()
    assert prescription.delivery_kind == DeliveryKind.SPECIAL_AGREEMENT
    assert prescription.special_agreement_id == agreement.pk
    content = page(client, number)
    assert "As in the recorded special delivery agreement" in content
    for content_of_agreement in ("Hemliga gränd", "Skuggby", "9931X", "Skuggsson", "111 22 33"):
        assert content_of_agreement not in content

    assert client.post(choice, {"kind": "unit"}).status_code == 302
    prescription.refresh_from_db()
    assert prescription.delivery_kind == DeliveryKind.UNIT
    assert prescription.special_agreement_id is None
    assert prescription.delivery_unit_id == prescription.unit_id


def test_presc_2_no_delivery_choice_page_for_an_ordinary_patient(rx_client, ordinary):
    number = start(rx_client, ordinary)
    assert rx_client.get(f"/prescriptions/{number}/special-delivery/").status_code == 404
    assert (
        rx_client.post(f"/prescriptions/{number}/special-delivery/", {"kind": "unit"}).status_code
        == 404
    )


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
    client.post(f"/prescriptions/{number}/submit/")
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


# --- denied -------------------------------------------------------------------------------------


@pytest.fixture
def world(rx: Any, hidden: Patient, out_of_region: Patient) -> dict[str, str]:
    """A protected patient's draft with an agreement and a registration, and an ordinary
    out-of-region patient's prescription waiting for registration; all by ``rx``."""
    client = logged_in(Client(), rx, stepped_up=True)
    protected_number = awaiting_registration(client, hidden)
    client.post(f"/prescriptions/{protected_number}/registration/", {"name": "Hemlig Gömdasson"})
    record_agreement(client, hidden)
    draft = start(client, hidden)
    client.post(f"/prescriptions/{draft}/special-delivery/", {"kind": "special_agreement"})
    ordinary_number = awaiting_registration(client, out_of_region)
    return {"protected": protected_number, "draft": draft, "ordinary": ordinary_number}


def every_url(world: dict[str, str], hidden: Patient, ordinary: Patient) -> list[str]:
    return [
        f"/prescriptions/{world['protected']}/registration/",
        f"/prescriptions/{world['ordinary']}/registration/",
        f"/prescriptions/{world['draft']}/special-delivery/",
        f"/prescriptions/patients/{hidden.reference}/special-delivery/",
        f"/prescriptions/patients/{hidden.reference}/abroad/",
        f"/prescriptions/patients/{ordinary.reference}/abroad/",
    ]


def assert_unchanged() -> None:
    assert SpecialDeliveryAgreement.objects.count() == 1
    assert SupplyRegistration.objects.count() == 1
    assert not ResidenceAbroad.objects.exists()


def test_denied_anonymous_is_sent_to_login(client, world, hidden, out_of_region):
    for url in every_url(world, hidden, out_of_region):
        for method in ("get", "post"):
            response = getattr(client, method)(url, {})
            assert response.status_code == 302, url
            assert response["Location"].startswith("/accounts/login/?next="), url
    assert_unchanged()


@pytest.mark.parametrize(
    "role", ["logistics", "technician", "billing", "unit_manager", "customer_service"]
)
def test_denied_roles_without_prescribing_get_403(client, world, hidden, out_of_region, role):
    logged_in(client, UserFactory(role=role), stepped_up=True)
    for url in every_url(world, hidden, out_of_region):
        assert client.get(url).status_code == 403, url
        assert client.post(url, AGREEMENT).status_code == 403, url
    assert_unchanged()


def test_denied_superuser_gets_no_silent_access(client, world, hidden, out_of_region):
    logged_in(client, UserFactory(is_superuser=True, is_staff=True), stepped_up=True)
    for url in every_url(world, hidden, out_of_region):
        assert client.get(url).status_code == 403, url
        assert client.post(url, AGREEMENT).status_code == 403, url
    assert_unchanged()


def test_denied_prescriber_of_another_unit_gets_404(client, world, hidden, out_of_region):
    """House style 5: another unit's prescriptions answer as missing ones; the protected
    patient, without a grant, is not found either."""
    logged_in(client, PrescriberProfileFactory().user, stepped_up=True)
    for url in every_url(world, hidden, out_of_region)[:5]:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"name": "X", **AGREEMENT}).status_code == 404, url
    assert client.get("/prescriptions/F-ZZZZZZZZ/registration/").status_code == 404
    assert_unchanged()


def test_denied_same_unit_colleague_without_grant_gets_404_for_the_protected_patient(
    client, rx, world, hidden, out_of_region
):
    """ACCESS-1/LEAK-3: a colleague at the prescriber's own unit, without a grant, gets the
    same 404 for every page of the protected patient, and the ordinary patient's page works."""
    unit = rx.prescriber_profile.units.get()
    colleague = PrescriberProfileFactory(
        user=UserFactory(role="prescriber", unit=rx.staff_profile.unit), units=[unit]
    ).user
    logged_in(client, colleague, stepped_up=True)
    urls = every_url(world, hidden, out_of_region)
    for url in urls[:5]:
        if url == urls[1]:
            continue
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"name": "X", **AGREEMENT}).status_code == 404, url
    assert client.get(urls[1]).status_code == 200
    assert_unchanged()


def test_denied_grant_holder_without_step_up_is_sent_to_step_up(client, rx, world, hidden):
    logged_in(client, rx)
    urls = every_url(world, hidden, hidden)
    for url in (urls[0], urls[2], urls[3], urls[4]):
        for method in ("get", "post"):
            response = getattr(client, method)(url, AGREEMENT)
            assert response.status_code == 302, url
            assert response["Location"] == "/protection/step-up/?" + urlencode({"next": url}), url
    assert_unchanged()


def test_denied_put_is_not_allowed(rx_client, world):
    response = rx_client.put(f"/prescriptions/{world['ordinary']}/registration/")
    assert response.status_code == 405


# --- LEAK-1 -------------------------------------------------------------------------------------


def test_leak_1_no_agreement_or_registration_content_without_a_grant(
    client, rx, world, hidden, out_of_region, customer_service, caplog
):
    """LEAK-1/LEAK-3: customer service, a superuser and a same-unit colleague, none holding a
    grant, see that the protected patient's delivery follows an agreement and that a
    registration exists, never what they contain: pages, admin lists, change and history pages
    and the log lines of all of it."""
    caplog.set_level(logging.DEBUG)
    unit = rx.prescriber_profile.units.get()
    colleague = PrescriberProfileFactory(
        user=UserFactory(role="prescriber", unit=rx.staff_profile.unit), units=[unit]
    ).user
    draft = Prescription.objects.get(reference=world["draft"])
    registration = SupplyRegistration.objects.get()
    admin_urls = [
        "/admin/prescriptions/supplyregistration/",
        f"/admin/prescriptions/supplyregistration/{registration.pk}/change/",
        f"/admin/prescriptions/supplyregistration/{registration.pk}/history/",
        "/admin/prescriptions/prescription/",
        f"/admin/prescriptions/prescription/{draft.pk}/change/",
        f"/admin/prescriptions/prescription/?q={world['draft']}",
        "/admin/prescriptions/invoicemark/",
        "/admin/prescriptions/specialdeliveryagreement/",
    ]
    seen: list[str] = []
    for user in (staff(customer_service), UserFactory(is_superuser=True, is_staff=True)):
        logged_in(client, user, stepped_up=True)
        for url in admin_urls:
            response = client.get(url)
            seen += [f"{user} {url}: {s}" for s in leaks(response.content.decode())]
        content = client.get(f"/admin/prescriptions/prescription/{draft.pk}/change/")
        assert "special delivery agreement" in content.content.decode()
        listed = client.get("/admin/prescriptions/supplyregistration/").content.decode()
        assert f">{registration.pk}<" in listed or "Protected identity" in listed
    logged_in(client, colleague, stepped_up=True)
    for url in [*every_url(world, hidden, out_of_region), "/prescriptions/"]:
        response = client.get(url)
        seen += [f"colleague {url}: {s}" for s in leaks(response.content.decode())]
        seen += [f"colleague {url}: {s}" for s in leaks(response.get("Location", ""))]
    seen += [f"log: {s}" for record in caplog.records for s in leaks(record.getMessage())]
    assert seen == []


def test_leak_1_the_check_is_not_blind(client, rx, world, hidden):
    """The grant holder, stepped up, does see the agreement and the registration's name."""
    logged_in(client, rx, stepped_up=True)
    url = f"/prescriptions/patients/{hidden.reference}/special-delivery/"
    assert leaks(client.get(url).content.decode())
    registration = f"/prescriptions/{world['protected']}/registration/"
    assert "Gömdasson" in client.get(registration).content.decode()


# Pinned: session, user, the gate (patient, grants, step-up, access entry), the residences.
RESIDENCE_PAGE_QUERIES = 10
