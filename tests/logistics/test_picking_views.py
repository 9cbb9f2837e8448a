"""The picking and delivery pages: pick by typing a serial (a scanner's Enter posts the form),
pack by scanning the order number, dispatch and confirm; denied for other roles and missing
ids; the route shows a protected patient's order as the unit and the prescriber only; query
counts pinned."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from logistics.models import CustomerOrderLine, LineState, Package, PackageState, PickItem
from logistics.services.picking import waves_create
from tests.logistics.conftest import approved
from tests.logistics.factories import DeviceFactory
from tests.logistics.picking_setup import allocated_order, area_all_week, stocked
from tests.personas import logged_in
from tests.prescriptions.leaks import SECRET_ADDRESS, SECRET_NAME

pytestmark = pytest.mark.django_db


@pytest.fixture
def today() -> datetime.date:
    from django.utils import timezone

    return timezone.localdate()


@pytest.fixture
def worker_client(client, store_worker):
    return logged_in(client, store_worker)


def _wave(central, store_worker, today):
    from logistics.calendar import next_working_day

    day = next_working_day(today)
    plan = waves_create(store_id=central.pk, delivery_on=day, by=store_worker, today=today)
    return plan.waves[0]


def test_pick_pack_dispatch_and_confirm_through_the_pages(
    worker_client, rx, ordinary, central, rollator, store_worker, today
):
    area_all_week()
    stocked(rollator, central, 2)
    device = DeviceFactory(article=rollator, location=central)
    order = allocated_order(approved(rx, ordinary, rollator), central, rollator)
    wave = _wave(central, store_worker, today)
    item = PickItem.objects.get(wave=wave)
    page = worker_client.get(reverse("logistics:wave", args=[wave.pk]))
    assert page.status_code == 200
    assert b"autofocus" in page.content
    url = reverse("logistics:pick", args=[wave.pk, item.pk])
    wrong = worker_client.post(url, {"serial": "WRONG"}, follow=True)
    assert b"Serial number" in wrong.content
    worker_client.post(url, {"serial": device.serial_number})
    assert CustomerOrderLine.objects.get(order=order).state == LineState.PICKED
    worker_client.post(reverse("logistics:pack"), {"scan": order.number})
    package = Package.objects.get(order=order)
    routes = worker_client.get(reverse("logistics:routes"), {"day": package.delivery_on})
    assert order.number.encode() in routes.content
    worker_client.post(
        reverse("logistics:dispatch"),
        {"day": package.delivery_on.isoformat(), "area": package.area_id},
    )
    package.refresh_from_db()
    assert package.state == PackageState.DISPATCHED
    worker_client.post(reverse("logistics:deliver", args=[package.pk]), {"received_by": "Anna"})
    package.refresh_from_db()
    assert package.state == PackageState.DELIVERED


def test_a_protected_patients_stop_shows_the_unit_and_prescriber_only(
    worker_client, rx, hidden, central, rollator, store_worker, today
):
    area_all_week()
    stocked(rollator, central, 2)
    device = DeviceFactory(article=rollator, location=central)
    order = allocated_order(
        approved(rx, hidden, rollator, stepped_up=True), central, rollator, protected=True
    )
    wave = _wave(central, store_worker, today)
    item = PickItem.objects.get(wave=wave)
    worker_client.post(
        reverse("logistics:pick", args=[wave.pk, item.pk]), {"serial": device.serial_number}
    )
    worker_client.post(reverse("logistics:pack"), {"scan": order.number})
    package = Package.objects.get(order=order)
    page = worker_client.get(reverse("logistics:routes"), {"day": package.delivery_on})
    text = page.content.decode()
    assert order.unit.unit.name in text
    for secret in (*SECRET_NAME, SECRET_ADDRESS, "protected", "skydd"):
        assert secret.lower() not in text.lower()


@pytest.mark.parametrize("name", ["waves", "to_pack", "routes", "deliveries", "failed"])
def test_list_pages_pin_their_query_counts(worker_client, name, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        assert worker_client.get(reverse(f"logistics:{name}")).status_code == 200


def test_denied_for_another_role_and_a_missing_id(rx, worker_client):
    client = logged_in(Client(), rx)
    assert client.get(reverse("logistics:waves")).status_code == 403
    assert client.post(reverse("logistics:deliver", args=[1])).status_code == 403
    assert worker_client.get(reverse("logistics:wave", args=[999999])).status_code == 404
    assert worker_client.post(reverse("logistics:deliver", args=[999999])).status_code == 404
    assert (
        worker_client.post(reverse("logistics:package_paper", args=[999999, "label"])).status_code
        == 404
    )
