"""The contact agreement (LEAK-5, PRESC-10): the prescriber records how a protected person wants
to be contacted; it is encrypted at rest, shown to grant holders only (on its page and on a work
order's), every read logged, and never to a technician, who reads "Contact through the
prescriber" with the prescriber instead."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from logistics.models import StockLocation, WorkOrderKind
from logistics.services.workorders import work_order_create
from patients.models import AccessEntry, Patient
from prescriptions.models import Article
from protection.models import ContactAgreement
from tests.factories import UserFactory
from tests.logistics.devices_helpers import lent
from tests.personas import logged_in
from tests.prescriptions.conftest import SECRET_NAME, article

pytestmark = pytest.mark.django_db

AGREED_PHONE = "070-777 66 55"
AGREED_TIMES = "Vardagar 9-11"


@pytest.fixture
def technician() -> Any:
    return UserFactory(username="tekniker", role="technician")


def page(patient: Patient) -> str:
    return reverse("protection:contact_agreement", args=[patient.reference])


def record(client: Client, rx: Any, patient: Patient) -> Any:
    logged_in(client, rx, stepped_up=True)
    return client.post(
        page(patient), {"via_prescriber": "", "phone": AGREED_PHONE, "times": AGREED_TIMES}
    )


def test_leak_5_the_contact_agreement_is_recorded_encrypted_by_the_grant_holder(
    client: Client, rx: Any, hidden: Patient
) -> None:
    response = record(client, rx, hidden)
    assert response.status_code == 302
    agreement = ContactAgreement.objects.get(patient=hidden, ended_at__isnull=True)
    assert agreement.phone == AGREED_PHONE
    assert not agreement.via_prescriber
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT phone, times FROM protection_contactagreement WHERE id = %s", [agreement.pk]
        )
        stored = cursor.fetchone()
    assert AGREED_PHONE not in stored[0]
    assert AGREED_TIMES not in stored[1]
    text = client.get(page(hidden)).content.decode()
    assert AGREED_PHONE in text
    assert (
        AccessEntry.objects.filter(
            object_type="contact_agreement", object_id=str(agreement.pk)
        ).count()
        == 2
    )  # recorded, then read
    # A second one replaces the first.
    client.post(page(hidden), {"via_prescriber": "on", "phone": "", "times": ""})
    assert ContactAgreement.objects.filter(patient=hidden, ended_at__isnull=True).count() == 1
    assert ContactAgreement.objects.get(patient=hidden, ended_at__isnull=True).via_prescriber


def test_leak_5_without_a_phone_the_contact_goes_through_the_prescriber(
    client: Client, rx: Any, hidden: Patient
) -> None:
    logged_in(client, rx, stepped_up=True)
    response = client.post(page(hidden), {"via_prescriber": "", "phone": "", "times": "9-11"})
    assert response.status_code == 400
    assert "9-11" in response.content.decode()
    assert not ContactAgreement.objects.exists()


def test_leak_5_the_contact_agreement_page_is_refused_to_anyone_without_the_grant(
    client: Client,
    rx: Any,
    hidden: Patient,
    ordinary: Patient,
    technician: Any,
    customer_service: Any,
) -> None:
    record(client, rx, hidden)
    client.logout()
    for user in (technician, customer_service):
        logged_in(client, user)
        assert client.get(page(hidden)).status_code == 404
        assert client.post(page(hidden), {"phone": "070-1234567"}).status_code == 404
        client.logout()
    # The grant holder without a recent password confirmation is asked for it.
    logged_in(client, rx)
    response = client.get(page(hidden))
    assert response.status_code == 302
    assert reverse("protection:step_up") in response["Location"]
    client.logout()
    # No agreement for an ordinary patient: staff contact them as the register says.
    logged_in(client, rx, stepped_up=True)
    assert client.get(page(ordinary)).status_code == 404
    client.logout()
    assert client.get(page(hidden)).status_code == 302  # to the login


def test_presc_10_a_work_order_shows_the_agreement_to_the_grant_holder_never_the_technician(
    client: Client, rx: Any, hidden: Patient, central: StockLocation, technician: Any
) -> None:
    record(client, rx, hidden)
    rollator: Article = article("2900", serial_numbered=True)
    device = lent(rx, hidden, rollator, central)
    order = work_order_create(kind=WorkOrderKind.REPAIR, by=rx, device_id=device.pk)
    url = reverse("logistics:work_order", args=[order.pk])
    text = client.get(url).content.decode()
    assert AGREED_PHONE in text
    assert SECRET_NAME[1] in text
    client.logout()
    text = logged_in(client, technician).get(url).content.decode()
    assert AGREED_PHONE not in text
    assert AGREED_TIMES not in text
    assert "Contact through the prescriber" in text


def test_leak_5_the_work_order_admin_masks_a_protected_patients_work_order(
    client: Client,
    rx: Any,
    hidden: Patient,
    ordinary: Patient,
    central: StockLocation,
    customer_service: Any,
) -> None:
    from django.conf import settings

    from tests.prescriptions.leaks import leaks

    rollator: Article = article("2900", serial_numbered=True)
    hidden_device = lent(rx, hidden, rollator, central)
    masked = work_order_create(
        kind=WorkOrderKind.REPAIR,
        by=rx,
        device_id=hidden_device.pk,
        description="Skyddad broms",
        caller_phone=AGREED_PHONE,
    )
    shown = work_order_create(
        kind=WorkOrderKind.REPAIR,
        by=rx,
        device_id=lent(rx, ordinary, rollator, central).pk,
        description="Vanlig broms",
    )
    customer_service.is_staff = True
    customer_service.save()
    client.force_login(customer_service)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    listing = client.get("/admin/logistics/workorder/").content.decode()
    assert masked.number in listing
    assert shown.number in listing
    assert leaks(listing) == []
    page = client.get(f"/admin/logistics/workorder/{masked.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert masked.number in text
    for secret in ("Skyddad broms", AGREED_PHONE, hidden_device.serial_number):
        assert secret not in text
    assert leaks(text) == []
    assert (
        "Vanlig broms"
        in client.get(f"/admin/logistics/workorder/{shown.pk}/change/").content.decode()
    )
