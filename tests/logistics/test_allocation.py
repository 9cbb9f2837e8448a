"""Allocation from the right store, backorders counted and undone, partial delivery, and
cancelling (makulera) with a reason."""

from __future__ import annotations

import pytest

from logistics.models import (
    CustomerOrder,
    CustomerOrderLine,
    CustomerOrderTransition,
    LineState,
    LocationKind,
    OrderState,
    Reservation,
    ReservationState,
    StockLevel,
    StockLocation,
)
from logistics.services.errors import LogisticsError
from logistics.services.orders import order_cancel, order_create_from_release, orders_allocate
from logistics.services.state import line_move
from tests.logistics.conftest import approved
from tests.logistics.factories import StockLevelFactory
from tests.personas import ORDINARY_NUMBER

pytestmark = pytest.mark.django_db


def make(rx, patient, *articles) -> CustomerOrder:
    order = order_create_from_release(prescription_id=approved(rx, patient, *articles).pk)
    assert order is not None
    return order


def level(article, location) -> StockLevel:
    return StockLevel.objects.get(article=article, location=location)


def test_an_order_with_stock_is_allocated_and_reserved(rx, ordinary, central, pads):
    StockLevelFactory(article=pads, location=central, physical=5)
    order = make(rx, ordinary, pads)
    order.refresh_from_db()
    assert order.state == OrderState.ALLOCATED
    line = order.lines.get()
    assert line.state == LineState.ALLOCATED
    assert Reservation.objects.get(order_line=line).quantity == line.quantity
    assert (level(pads, central).reserved, level(pads, central).available) == (1, 4)
    assert [t.to_state for t in CustomerOrderTransition.objects.filter(order=order)] == [
        OrderState.RECEIVED,
        OrderState.ALLOCATED,
    ]


def test_without_stock_the_line_waits_and_the_backorder_is_undone_when_stock_comes(
    rx, ordinary, central, pads
):
    order = make(rx, ordinary, pads)
    order.refresh_from_db()
    assert order.state == OrderState.BACKORDERED
    assert level(pads, central).backordered == 1
    StockLevel.objects.filter(article=pads, location=central).update(physical=3)
    result = orders_allocate()
    assert (result.allocated, result.backordered) == (1, 0)
    found = level(pads, central)
    assert (found.backordered, found.reserved, found.available) == (0, 1, 2)
    order.refresh_from_db()
    assert order.state == OrderState.ALLOCATED


def test_partial_delivery_some_lines_allocated_others_backordered(
    rx, ordinary, central, pads, rollator
):
    StockLevelFactory(article=pads, location=central, physical=5)
    order = make(rx, ordinary, pads, rollator)
    states = dict(order.lines.values_list("article_id", "state"))
    assert states == {pads.pk: LineState.ALLOCATED, rollator.pk: LineState.BACKORDERED}
    order.refresh_from_db()
    assert order.state == OrderState.BACKORDERED
    # The allocated line goes out and is delivered: the order is partly delivered.
    line = order.lines.get(article=pads)
    for state in (LineState.PICKING, LineState.PICKED, LineState.PACKED, LineState.DISPATCHED):
        line_move(line=line, to_state=state)
    line_move(line=line, to_state=LineState.DELIVERED, delivered_on=line.promised_on)
    order.refresh_from_db()
    assert order.state == OrderState.PARTLY_DELIVERED


def test_the_right_store_is_the_units_customer_store_when_it_holds_the_goods(
    rx, ordinary, central, pads
):
    unit = rx.staff_profile.unit
    store = StockLocation.objects.create(
        code="kundlager", name="Kundlager", kind=LocationKind.CUSTOMER, region_id="12", unit=unit
    )
    StockLevelFactory(article=pads, location=store, physical=2)
    order = make(rx, ordinary, pads)
    assert order.from_location_id == store.pk
    assert order.lines.get().state == LineState.ALLOCATED


def test_the_drafts_reservations_move_to_the_order(rx, ordinary, central, pads):
    StockLevelFactory(article=pads, location=central, physical=1)
    prescription = approved(rx, ordinary, pads)
    # LOG-1: the draft's line reserved the one on the shelf while it was drafted.
    draft = Reservation.objects.get(prescription_line=prescription.lines.get())
    assert draft.state == ReservationState.ACTIVE
    order = order_create_from_release(prescription_id=prescription.pk)
    assert order is not None
    draft.refresh_from_db()
    assert draft.state == ReservationState.CONVERTED
    assert order.lines.get().state == LineState.ALLOCATED
    assert level(pads, central).reserved == 1


def test_urgent_orders_are_allocated_first(rx, ordinary, central, pads):
    first = make(rx, ordinary, pads)
    second = make(rx, ordinary, pads)
    CustomerOrder.objects.filter(pk=second.pk).update(urgent=True)
    StockLevel.objects.filter(article=pads, location=central).update(physical=1)
    orders_allocate(location_id=central.pk)
    assert second.lines.get().state == LineState.ALLOCATED
    assert first.lines.get().state == LineState.BACKORDERED


def test_allocating_many_lines_takes_few_queries(
    rx, ordinary, central, pads, django_assert_max_num_queries
):
    orders = [make(rx, ordinary, pads) for _ in range(6)]
    StockLevel.objects.filter(article=pads, location=central).update(physical=4)
    with django_assert_max_num_queries(14):
        result = orders_allocate(order_ids=[order.pk for order in orders])
    assert (result.allocated, result.backordered) == (4, 2)
    assert level(pads, central).backordered == 2


# --- cancelling (makulera) -------------------------------------------------------------------


def test_cancelling_needs_a_reason_without_identity(rx, ordinary, central, pads):
    order = make(rx, ordinary, pads)
    with pytest.raises(LogisticsError):
        order_cancel(by=rx, number=order.number, reason=" ")
    with pytest.raises(LogisticsError):
        order_cancel(by=rx, number=order.number, reason=f"fel {ORDINARY_NUMBER}")


def test_cancelling_releases_reservations_and_backorders(rx, ordinary, central, pads, rollator):
    StockLevelFactory(article=pads, location=central, physical=5)
    order = make(rx, ordinary, pads, rollator)
    done = order_cancel(by=rx, number=order.number, reason="Fel artikel beställd")
    assert done.state == OrderState.CANCELLED
    assert done.cancelled_reason == "Fel artikel beställd"
    assert set(order.lines.values_list("state", flat=True)) == {LineState.CANCELLED}
    assert level(pads, central).reserved == 0
    assert level(rollator, central).backordered == 0
    assert not Reservation.objects.filter(state=ReservationState.ACTIVE).exists()


def test_one_line_cancelled_the_order_follows_the_rest(rx, ordinary, central, pads, rollator):
    StockLevelFactory(article=pads, location=central, physical=5)
    order = make(rx, ordinary, pads, rollator)
    waiting = order.lines.get(article=rollator)
    done = order_cancel(by=rx, number=order.number, reason="Behövs inte", line_ids=[waiting.pk])
    assert done.state == OrderState.ALLOCATED


def test_a_line_out_for_delivery_cannot_be_cancelled(rx, ordinary, central, pads):
    StockLevelFactory(article=pads, location=central, physical=5)
    order = make(rx, ordinary, pads)
    line = order.lines.get()
    for state in (LineState.PICKING, LineState.PICKED, LineState.PACKED, LineState.DISPATCHED):
        line_move(line=line, to_state=state)
    with pytest.raises(LogisticsError, match=order.number):
        order_cancel(by=rx, number=order.number, reason="Sent", line_ids=[line.pk])
    assert CustomerOrderLine.objects.get(pk=line.pk).state == LineState.DISPATCHED
