"""Packing, dispatch by route and delivery: DEVICE-1 (the holder after delivery: the patient,
the unit for a protected patient, the buffer store for a replenishment), the receiver's free
text checked for the patient's identity, failed deliveries with a new attempt on the route's
next day, and scanning a label's order number."""

from __future__ import annotations

import datetime

import pytest
from django.utils import translation

from logistics.models import (
    CustomerOrderLine,
    DeliveryAttempt,
    DeviceStatus,
    HolderKind,
    LineState,
    OrderState,
    PackageState,
    PickItem,
)
from logistics.selectors.destinations import order_by_scan
from logistics.services.delivery import (
    package_deliver,
    package_dispatch,
    package_fail,
    package_pack,
    route_dispatch,
)
from logistics.services.errors import LogisticsError
from logistics.services.picking import item_pick, waves_create
from tests.logistics.conftest import approved
from tests.logistics.factories import DeviceFactory
from tests.logistics.picking_setup import (
    allocated_order,
    allocated_replenishment,
    area_all_week,
    stocked,
)
from tests.personas import PROTECTED_NUMBER

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


MONDAY = datetime.date(2026, 12, 7)
TUESDAY = datetime.date(2026, 12, 8)


def picked(order, store, by):
    wave = waves_create(store_id=store.pk, delivery_on=MONDAY, by=by, today=MONDAY).waves[0]
    for item in PickItem.objects.filter(wave=wave, line__order=order).select_related("line"):
        serial = ""
        if item.line.article.serial_numbered:
            serial = str(DeviceFactory(article=item.line.article, location=store).serial_number)
        item_pick(wave_id=wave.pk, item_id=item.pk, by=by, serial=serial)
    return order


def delivered_device(order):
    line = CustomerOrderLine.objects.select_related("device").get(order=order)
    assert line.state == LineState.DELIVERED
    assert line.delivered_on == MONDAY
    return line.device


@pytest.fixture
def route(central, rollator):
    stocked(rollator, central, 5)
    return area_all_week()


def _through(order, central, by, received="Anna på mottagningen"):
    picked(order, central, by)
    package = package_pack(order_id=order.pk, by=by, today=MONDAY)
    assert package.delivery_on == MONDAY
    assert route_dispatch(area_id=package.area_id, day=MONDAY, by=by) == [package]
    line = CustomerOrderLine.objects.select_related("device").get(order=order)
    assert line.state == LineState.DISPATCHED
    assert line.device is not None
    assert line.device.status == DeviceStatus.IN_TRANSIT
    package_deliver(package_id=package.pk, received_by=received, by=by, today=MONDAY)
    order.refresh_from_db()
    assert order.state == OrderState.DELIVERED
    return package


def test_device_1_an_ordinary_patients_device_is_on_loan_to_them(
    route, rx, ordinary, central, rollator, store_worker
):
    order = allocated_order(approved(rx, ordinary, rollator), central, rollator)
    _through(order, central, store_worker)
    device = delivered_device(order)
    assert device.status == DeviceStatus.ON_LOAN
    assert (device.holder_kind, device.holder_patient_id) == (HolderKind.PATIENT, ordinary.pk)
    assert DeliveryAttempt.objects.get(package__order=order).received_by == "Anna på mottagningen"


def test_device_1_a_protected_patients_device_is_held_at_the_unit(
    route, rx, protected_patient, central, rollator, store_worker
):
    prescription = approved(rx, protected_patient, rollator, stepped_up=True)
    order = allocated_order(prescription, central, rollator, protected=True)
    _through(order, central, store_worker)
    device = delivered_device(order)
    assert device.status == DeviceStatus.AT_UNIT
    assert (device.holder_kind, device.holder_unit_id) == (HolderKind.UNIT, order.unit_id)
    assert device.holder_patient_id is None


def test_device_1_a_replenishment_arrives_in_stock_in_the_buffer_store(
    route, rx, central, rollator, store_worker
):
    unit = rx.prescriber_profile.units.get()
    order = allocated_replenishment(unit, rx, central, rollator)
    _through(order, central, store_worker)
    device = delivered_device(order)
    assert device.status == DeviceStatus.IN_STOCK
    assert device.location_id == order.to_location_id
    assert device.holder_kind == HolderKind.STORE


def test_the_receiver_may_not_be_the_patients_name_or_number(
    route, rx, ordinary, central, rollator, store_worker
):
    order = allocated_order(approved(rx, ordinary, rollator), central, rollator)
    picked(order, central, store_worker)
    package = package_pack(order_id=order.pk, by=store_worker, today=MONDAY)
    package_dispatch(package_id=package.pk, by=store_worker)
    for text in ("Testa Testsson", PROTECTED_NUMBER):
        with pytest.raises(LogisticsError, match="Received by"):
            package_deliver(package_id=package.pk, received_by=text, by=store_worker, today=MONDAY)
    package.refresh_from_db()
    assert package.state == PackageState.DISPATCHED


def test_a_failed_delivery_gets_a_new_attempt_on_the_next_route_day(
    route, rx, ordinary, central, rollator, store_worker
):
    order = allocated_order(approved(rx, ordinary, rollator), central, rollator)
    picked(order, central, store_worker)
    package = package_pack(order_id=order.pk, by=store_worker, today=MONDAY)
    package_dispatch(package_id=package.pk, by=store_worker)
    with pytest.raises(LogisticsError, match="Reason"):
        package_fail(package_id=package.pk, reason="", note="", by=store_worker, today=MONDAY)
    package_fail(
        package_id=package.pk,
        reason="nobody_home",
        note="Lapp lämnad",
        by=store_worker,
        today=MONDAY,
    )
    package.refresh_from_db()
    assert package.state == PackageState.FAILED
    assert package.delivery_on == TUESDAY
    # On Tuesday's route again; the lines stay out for delivery.
    assert route_dispatch(area_id=package.area_id, day=TUESDAY, by=store_worker) == [package]
    package_deliver(package_id=package.pk, received_by="Grannen", by=store_worker, today=TUESDAY)
    assert DeliveryAttempt.objects.filter(package=package).count() == 2


def test_scanning_a_labels_order_number_finds_the_order(
    route, rx, ordinary, central, rollator, store_worker
):
    order = allocated_order(approved(rx, ordinary, rollator), central, rollator)
    picked(order, central, store_worker)
    device = CustomerOrderLine.objects.get(order=order).device
    assert device is not None
    assert order_by_scan(f" {order.number.lower()} ") == order
    assert order_by_scan(f"01{device.gtin}21{device.serial_number}") == order
    assert order_by_scan("nothing") is None
