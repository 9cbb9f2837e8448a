"""Pick waves and picking: allocated lines grouped by store, delivery day and route, set-based;
a serial scanned ties the device to the line (DEVICE-1); a wrong serial is refused naming the
field; a line picked short waits for stock again; an order with no delivery area is listed
with a message, not a crash."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from logistics.models import (
    CustomerOrderLine,
    Device,
    DeviceStatus,
    LineState,
    OrderState,
    PickItem,
    PickItemState,
    PickWaveTransition,
    Reservation,
    ReservationState,
    StockLevel,
    WaveState,
)
from logistics.services.errors import LogisticsError
from logistics.services.picking import item_pick, item_short, waves_create
from tests.logistics.conftest import approved
from tests.logistics.factories import DeviceFactory
from tests.logistics.picking_setup import allocated_order, area_all_week, stocked

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


MONDAY = datetime.date(2026, 12, 7)


@pytest.fixture
def setup(rx, ordinary, central, rollator, pads):
    area_all_week()
    stocked(rollator, central, 2)
    stocked(pads, central, 5)
    device = DeviceFactory(article=rollator, location=central)
    order = allocated_order(approved(rx, ordinary, rollator, pads), central, rollator, pads)
    return order, device


def test_waves_group_allocated_lines_by_day_and_route(setup, central, store_worker):
    order, _device = setup
    plan = waves_create(store_id=central.pk, delivery_on=MONDAY, by=store_worker, today=MONDAY)
    assert len(plan.waves) == 1
    assert plan.unrouted == []
    wave = plan.waves[0]
    assert wave.delivery_on == MONDAY
    assert wave.area.name == "Malmö"
    assert set(CustomerOrderLine.objects.filter(order=order).values_list("state", flat=True)) == {
        LineState.PICKING
    }
    order.refresh_from_db()
    assert order.state == OrderState.PICKING
    assert PickWaveTransition.objects.filter(wave=wave, to_state=WaveState.OPEN).exists()
    # Another day: nothing more to wave.
    again = waves_create(store_id=central.pk, delivery_on=MONDAY, by=store_worker, today=MONDAY)
    assert again.waves == []


def test_wave_building_is_set_based(rx, ordinary, central, pads, store_worker):
    """A wave of many lines is built in a fixed number of statements (the benchmark's 5 000)."""
    area_all_week()
    stocked(pads, central, 100)
    for _n in range(3):
        allocated_order(approved(rx, ordinary, pads), central, pads)
    with CaptureQueriesContext(connection) as few:
        waves_create(store_id=central.pk, delivery_on=MONDAY, by=store_worker, today=MONDAY)
    for _n in range(6):
        allocated_order(approved(rx, ordinary, pads), central, pads)
    with CaptureQueriesContext(connection) as many:
        waves_create(store_id=central.pk, delivery_on=MONDAY, by=store_worker, today=MONDAY)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_device_1_the_scanned_serial_is_tied_to_the_line(setup, central, store_worker, rollator):
    order, device = setup
    wave = waves_create(
        store_id=central.pk, delivery_on=MONDAY, by=store_worker, today=MONDAY
    ).waves[0]
    items = list(
        PickItem.objects.filter(wave=wave).select_related("line").order_by("line__position")
    )
    with pytest.raises(LogisticsError, match="Serial number"):
        item_pick(wave_id=wave.pk, item_id=items[0].pk, by=store_worker, serial="NOPE-1")
    assert PickItem.objects.get(pk=items[0].pk).state == PickItemState.TO_PICK
    item_pick(wave_id=wave.pk, item_id=items[0].pk, by=store_worker, serial=device.serial_number)
    line = CustomerOrderLine.objects.get(pk=items[0].line_id)
    device.refresh_from_db()
    assert line.state == LineState.PICKED
    assert line.device_id == device.pk
    assert device.status == DeviceStatus.ALLOCATED
    assert Reservation.objects.get(order_line=line).state == ReservationState.CONSUMED
    level = StockLevel.objects.get(article=rollator, location=central)
    assert (level.physical, level.reserved) == (1, 0)
    item_pick(wave_id=wave.pk, item_id=items[1].pk, by=store_worker)
    wave.refresh_from_db()
    assert wave.state == WaveState.PICKED
    order.refresh_from_db()
    assert order.state == OrderState.PICKED


def test_a_device_in_another_state_is_refused(setup, central, store_worker):
    _order, device = setup
    Device.objects.filter(pk=device.pk).update(status=DeviceStatus.IN_WORKSHOP)
    wave = waves_create(
        store_id=central.pk, delivery_on=MONDAY, by=store_worker, today=MONDAY
    ).waves[0]
    item = PickItem.objects.filter(wave=wave).order_by("line__position")[0]
    with pytest.raises(LogisticsError, match="not a device of article"):
        item_pick(wave_id=wave.pk, item_id=item.pk, by=store_worker, serial=device.serial_number)


def test_picked_short_waits_for_stock_again(setup, central, store_worker, pads):
    order, _device = setup
    wave = waves_create(
        store_id=central.pk, delivery_on=MONDAY, by=store_worker, today=MONDAY
    ).waves[0]
    item = PickItem.objects.get(wave=wave, line__article=pads)
    item_short(wave_id=wave.pk, item_id=item.pk, by=store_worker)
    assert CustomerOrderLine.objects.get(pk=item.line_id).state == LineState.BACKORDERED
    order.refresh_from_db()
    assert order.state == OrderState.BACKORDERED
    assert StockLevel.objects.get(article=pads, location=central).backordered == 1


def test_an_order_without_a_delivery_area_is_listed_not_a_crash(setup, central, store_worker):
    from logistics.models import DeliveryArea

    DeliveryArea.objects.all().delete()
    area_all_week(name="Norr", postal_from="90000", postal_to="99999")
    plan = waves_create(store_id=central.pk, delivery_on=MONDAY, by=store_worker, today=MONDAY)
    assert plan.waves == []
    assert [u.order_number for u in plan.unrouted] == [setup[0].number]
    assert "No delivery area" in plan.unrouted[0].reason
