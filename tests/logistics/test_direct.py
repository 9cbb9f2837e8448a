"""Direct delivery by the supplier (LOG-3, LEAK-4, LEAK-5): an order of articles their supplier
delivers goes to the supplier instead of the store's shelves, is delivered when the supplier
reports it (a serial-numbered article becomes the patient's device, DEVICE-1), and never exists
for a protected patient, in the service and in the database. A patient who becomes protected
has what is with the supplier withdrawn and listed until the supplier is told."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from logistics.models import (
    CustomerOrder,
    DeviceStatus,
    DirectDelivery,
    DirectDeliveryState,
    DirectDeliveryTransition,
    HolderKind,
    LineState,
)
from logistics.selectors.queues import QUEUES, queue_counts
from logistics.services.direct import direct_delivery_confirm, direct_delivery_withdrawal_confirm
from logistics.services.errors import LogisticsError
from logistics.services.orders import (
    order_create_from_release,
    orders_allocate,
    orders_reroute_for_protected,
)
from patients.models import AccessEntry, Patient
from tests.logistics.conftest import approved
from tests.personas import logged_in
from tests.prescriptions.conftest import SECRET_ADDRESS, SECRET_NAME, article

pytestmark = pytest.mark.django_db

S = DirectDeliveryState


def make(rx: Any, patient: Patient, *articles: Any, stepped_up: bool = False) -> CustomerOrder:
    order = order_create_from_release(
        prescription_id=approved(rx, patient, *articles, stepped_up=stepped_up).pk
    )
    assert order is not None
    order.refresh_from_db()
    return order


def counts() -> dict[str, int]:
    return {c.queue.slug: c.count for c in queue_counts(day=timezone.localdate(), queues=QUEUES)}


@pytest.fixture(autouse=True)
def english() -> Any:
    """The services' messages are matched in English; without this they come out in the
    project's Swedish (the pages answer in the language the request asks for)."""
    with translation.override("en"):
        yield


@pytest.fixture
def worker_client(client: Client, store_worker: Any) -> Client:
    return logged_in(client, store_worker)


def test_log_3_an_order_of_supplier_delivered_articles_goes_to_each_supplier(rx, ordinary, central):
    first = article("900", supplier_delivers=True)
    second = article("950", supplier_delivers=True)
    assert first.agreement.supplier_id != second.agreement.supplier_id
    order = make(rx, ordinary, first, second)
    assert order.supplier_direct
    deliveries = list(DirectDelivery.objects.filter(order=order).order_by("supplier_id"))
    assert [(d.supplier_id, d.state) for d in deliveries] == sorted(
        [(first.agreement.supplier_id, S.ORDERED), (second.agreement.supplier_id, S.ORDERED)]
    )
    # Not the store's to allocate or pick: the lines wait for the supplier's report.
    assert set(order.lines.values_list("state", flat=True)) == {LineState.RECEIVED}
    assert DirectDeliveryTransition.objects.filter(delivery__order=order).count() == 2
    found = counts()
    assert (found["direct"], found["to-allocate"], found["withdraw"]) == (2, 0, 0)


def test_log_3_the_suppliers_report_delivers_the_lines_and_the_device_goes_to_the_patient(
    rx, ordinary, central, store_worker
):
    walker = article("900", supplier_delivers=True, serial_numbered=True)
    order = make(rx, ordinary, walker)
    delivery = DirectDelivery.objects.get(order=order)
    line = order.lines.get()
    today = timezone.localdate()
    with pytest.raises(LogisticsError, match="Serial number, line 1"):
        direct_delivery_confirm(
            delivery_id=delivery.pk,
            delivered_on=today,
            received_by="Anhörig",
            serials={},
            by=store_worker,
        )
    with pytest.raises(LogisticsError, match="future"):
        direct_delivery_confirm(
            delivery_id=delivery.pk,
            delivered_on=today + datetime.timedelta(days=1),
            received_by="Anhörig",
            serials={line.pk: "SN-1"},
            by=store_worker,
        )
    with pytest.raises(LogisticsError, match="personnummer"):
        direct_delivery_confirm(
            delivery_id=delivery.pk,
            delivered_on=today,
            received_by="18900101-9802",
            serials={line.pk: "SN-1"},
            by=store_worker,
        )
    direct_delivery_confirm(
        delivery_id=delivery.pk,
        delivered_on=today,
        received_by="Anhörig",
        serials={line.pk: " SN-1 "},
        by=store_worker,
    )
    line.refresh_from_db()
    delivery.refresh_from_db()
    order.refresh_from_db()
    assert (line.state, line.delivered_on, delivery.state) == (
        LineState.DELIVERED,
        today,
        S.DELIVERED,
    )
    assert order.state == "delivered"
    assert line.device is not None
    device = line.device
    assert (device.serial_number, device.status, device.holder_kind, device.holder_patient_id) == (
        "SN-1",
        DeviceStatus.ON_LOAN,
        HolderKind.PATIENT,
        ordinary.pk,
    )
    with pytest.raises(LogisticsError, match="nothing to confirm"):
        direct_delivery_confirm(
            delivery_id=delivery.pk,
            delivered_on=today,
            received_by="Anhörig",
            serials={},
            by=store_worker,
        )


def test_log_3_leak_4_a_protected_patients_order_never_goes_to_a_supplier(rx, hidden, central):
    order = make(rx, hidden, article("900", supplier_delivers=True), stepped_up=True)
    assert order.supplier_direct is False
    assert not DirectDelivery.objects.filter(order=order).exists()
    # The database refuses one all the same (the second line, LEAK-6).
    supplier_id = order.lines.get().article.agreement.supplier_id
    with pytest.raises(DatabaseError, match="LOG-3"), transaction.atomic():
        DirectDelivery.objects.create(order=order, supplier_id=supplier_id)


def test_leak_4_a_patient_who_becomes_protected_has_the_supplier_withdrawn(
    rx, ordinary, central, store_worker
):
    order = make(rx, ordinary, article("900", supplier_delivers=True))
    delivery = DirectDelivery.objects.get(order=order)
    Patient.objects.filter(pk=ordinary.pk).update(protected_registration=True)
    assert orders_reroute_for_protected(patient_id=ordinary.pk) == 1
    delivery.refresh_from_db()
    assert delivery.state == S.WITHDRAWN
    assert counts()["withdraw"] == 1
    # The region's own store takes the order now.
    orders_allocate(order_ids=[order.pk])
    assert LineState.RECEIVED not in set(order.lines.values_list("state", flat=True))
    # Nor can the withdrawn delivery be brought back to the supplier (the database refuses).
    with pytest.raises(DatabaseError, match="LOG-3"), transaction.atomic():
        DirectDelivery.objects.filter(pk=delivery.pk).update(state=S.ORDERED)
    direct_delivery_withdrawal_confirm(delivery_id=delivery.pk, by=store_worker)
    delivery.refresh_from_db()
    assert delivery.withdrawal_confirmed_by_id == store_worker.pk
    assert counts()["withdraw"] == 0
    with pytest.raises(LogisticsError, match="already confirmed"):
        direct_delivery_withdrawal_confirm(delivery_id=delivery.pk, by=store_worker)


def test_the_list_page_names_orders_and_suppliers_only(
    worker_client: Client, rx, ordinary, hidden, central, django_assert_max_num_queries
):
    orders = [make(rx, ordinary, article("900", supplier_delivers=True)) for _ in range(3)]
    Patient.objects.filter(pk=ordinary.pk).update(protected_registration=True)
    orders_reroute_for_protected(patient_id=ordinary.pk)
    others = [make(rx, hidden, article("900", supplier_delivers=True), stepped_up=True)]
    with django_assert_max_num_queries(12):
        response = worker_client.get(reverse("logistics:direct_deliveries"))
    text = response.content.decode()
    assert response.status_code == 200
    for order in orders:
        assert order.number in text
    assert others[0].number not in text
    for secret in (*SECRET_NAME, SECRET_ADDRESS, ordinary.identity.surname, "Provgatan"):
        assert secret not in text


def test_the_delivery_page_shows_the_address_logs_the_read_and_records_the_report(
    worker_client: Client, rx, ordinary, central
):
    order = make(rx, ordinary, article("900", supplier_delivers=True, serial_numbered=True))
    delivery = DirectDelivery.objects.get(order=order)
    url = reverse("logistics:direct_delivery", args=[delivery.pk])
    before = AccessEntry.objects.filter(object_type="direct delivery").count()
    page = worker_client.get(url)
    assert page.status_code == 200
    assert "Provgatan 1" in page.content.decode()
    assert (
        AccessEntry.objects.filter(
            object_type="direct delivery", object_id=order.number, patient_id=ordinary.pk
        ).count()
        == before + 1
    )
    line = order.lines.get()
    # A missing serial number: refused next to the field, and what was typed stays.
    refused = worker_client.post(
        url, {"delivered_on": timezone.localdate().isoformat(), "received_by": "Anhörig"}
    )
    assert refused.status_code == 400
    assert 'value="Anhörig"' in refused.content.decode()
    done = worker_client.post(
        url,
        {
            "delivered_on": timezone.localdate().isoformat(),
            "received_by": "Anhörig",
            f"serial_{line.pk}": "SN-77",
        },
    )
    assert done.status_code == 302
    delivery.refresh_from_db()
    assert delivery.state == S.DELIVERED


def test_denied_another_role_and_a_missing_id(rx, store_worker):
    client = logged_in(Client(), rx)
    worker_client = logged_in(Client(), store_worker)
    assert client.get(reverse("logistics:direct_deliveries")).status_code == 403
    assert client.get(reverse("logistics:direct_delivery", args=[1])).status_code == 403
    assert client.post(reverse("logistics:direct_withdrawal_confirm", args=[1])).status_code == 403
    assert worker_client.get(reverse("logistics:direct_delivery", args=[999999])).status_code == 404
    refused = worker_client.post(
        reverse("logistics:direct_withdrawal_confirm", args=[999999]), follow=True
    )
    assert "already confirmed, or there is none" in refused.content.decode()
