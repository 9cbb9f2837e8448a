"""Consumables' pages (issue 14): the prescriber writes a consumable prescription from the
patient page; customer service finds the patient through the gate, sees what remains and when
the next withdrawal is possible, and registers a withdrawal. Denied paths and pinned queries.
Identity numbers are Skatteverket test numbers (IDENT-4)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone, translation

from patients.models import AccessEntry
from prescriptions.models import ConsumablePrescription, ConsumableWithdrawal, DeliveryKind
from tests.factories import UserFactory
from tests.personas import give_grant, logged_in
from tests.prescriptions.factories import PrescriberProfileFactory
from tests.prescriptions.test_consumables import consumable, strips

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def _form(item: Any) -> dict[str, str]:
    today = timezone.localdate()
    return {
        "article": str(item.pk),
        "quantity_per_period": "90",
        "period_months": "1",
        "valid_from": today.isoformat(),
        "valid_to": (today + timedelta(days=180)).isoformat(),
        "need": "Blodsockermätning fyra gånger om dagen",
    }


def test_consumables_prescriber_writes_one_from_the_patient_page(rx_client, rx, ordinary):
    item = strips()
    patient_page = rx_client.get(f"/patients/{ordinary.reference}/").content.decode()
    assert f"/prescriptions/patients/{ordinary.reference}/consumables/new/" in patient_page
    url = f"/prescriptions/patients/{ordinary.reference}/consumables/new/"
    assert rx_client.get(url).status_code == 200
    response = rx_client.post(url, _form(item))
    c = ConsumablePrescription.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/prescriptions/consumables/{c.reference}/"
    assert (c.prescriber_id, c.article_id, c.quantity_per_period) == (rx.pk, item.pk, 90)
    detail = rx_client.get(response["Location"]).content.decode()
    assert "No withdrawals yet." in detail
    assert 'name="quantity"' not in detail  # withdrawals are customer service's


def test_consumables_a_refused_form_keeps_what_was_typed_and_names_the_field(rx_client, ordinary):
    data = _form(strips()) | {"valid_to": "2020-01-01"}
    response = rx_client.post(
        f"/prescriptions/patients/{ordinary.reference}/consumables/new/", data
    )
    content = response.content.decode()
    assert response.status_code == 400
    assert "Valid to:" in content
    assert "Blodsockermätning fyra gånger om dagen" in content
    assert not ConsumablePrescription.objects.exists()


def test_consumables_customer_service_takes_a_withdrawal_from_the_page(
    client, rx, ordinary, customer_service
):
    c = consumable(rx, ordinary, strips(interval=25))
    logged_in(client, customer_service)
    patient_page = client.get(f"/patients/{ordinary.reference}/").content.decode()
    assert f"/prescriptions/consumables/{c.reference}/" in patient_page
    assert "Possible now" in patient_page
    url = f"/prescriptions/consumables/{c.reference}/"
    response = client.post(url, {"quantity": "30"})
    assert response.status_code == 302
    w = ConsumableWithdrawal.objects.get()
    assert w.quantity == 30
    content = client.get(url).content.decode()
    assert w.order.reference in content
    assert "30 withdrawn, 60 remaining" in content
    next_day = (timezone.localdate() + timedelta(days=25)).isoformat()
    assert f"Possible from {next_day}" in content
    # Too soon: refused next to the field, with the day it becomes possible.
    refused = client.post(url, {"quantity": "30"})
    assert refused.status_code == 400
    assert f"the next withdrawal is possible on {next_day}" in refused.content.decode()
    assert ConsumableWithdrawal.objects.count() == 1
    assert AccessEntry.objects.filter(user=customer_service, patient=ordinary).exists()


def test_presc_2_withdrawal_page_shows_the_unit_and_prescriber_for_a_protected_patient(
    client, rx, protected_patient, customer_service
):
    """Customer service holding a grant for the patient (ACCESS-2) sees the page; the order
    goes to the prescriber's unit with the prescriber as contact, nothing else."""
    c = consumable(rx, protected_patient, strips())
    give_grant(customer_service, protected_patient.identity)
    logged_in(client, customer_service, stepped_up=True)
    response = client.post(f"/prescriptions/consumables/{c.reference}/", {"quantity": "10"})
    assert response.status_code == 302
    order = ConsumableWithdrawal.objects.get().order
    assert order.delivery_kind == DeliveryKind.UNIT
    content = client.get(f"/prescriptions/consumables/{c.reference}/").content.decode()
    assert "To the unit" in content


def test_consumables_denied_pages(client, rx, ordinary, protected_patient, customer_service):
    c = consumable(rx, ordinary, strips())
    hidden = consumable(rx, protected_patient, strips())
    url = f"/prescriptions/consumables/{c.reference}/"
    new = f"/prescriptions/patients/{ordinary.reference}/consumables/new/"
    # Another unit's prescriber: the one not-found answer.
    logged_in(client, PrescriberProfileFactory().user)
    assert client.get(url).status_code == 404
    assert client.post(url, {"quantity": "1"}).status_code == 404
    # A technician has no prescriptions role.
    logged_in(client, UserFactory(role="technician"))
    assert client.get(url).status_code == 403
    assert client.get(new).status_code == 403
    # Customer service without a grant: the protected patient's consumable opens by its
    # number as the masked card only (LEAK-5; tests/prescriptions/test_phone_desk.py).
    logged_in(client, customer_service)
    masked = client.get(f"/prescriptions/consumables/{hidden.reference}/").content.decode()
    assert "Protected identity" in masked
    assert hidden.patient.reference not in masked
    # Customer service writes no consumable prescription.
    assert client.get(new).status_code == 403
    # The prescriber may not take a withdrawal.
    logged_in(client, rx)
    assert client.post(url, {"quantity": "1"}).status_code == 403
    assert client.get("/prescriptions/consumables/L-NOSUCH00/").status_code == 404
    assert not ConsumableWithdrawal.objects.exists()


def test_consumables_patient_page_section_query_count(
    client, rx, ordinary, customer_service, django_assert_max_num_queries
):
    for _ in range(3):
        consumable(rx, ordinary, strips(interval=0))
    logged_in(client, customer_service)
    client.get(f"/patients/{ordinary.reference}/")  # warm the user's permissions
    with django_assert_max_num_queries(60) as counted:
        client.get(f"/patients/{ordinary.reference}/")
    few = len(counted.captured_queries)
    for _ in range(3):
        consumable(rx, ordinary, strips(interval=0))
    with django_assert_max_num_queries(few) as again:
        client.get(f"/patients/{ordinary.reference}/")
    assert len(again.captured_queries) == few  # no query per consumable prescription
