"""The floor's core: order states follow their lines and only move forward (house style 4),
the working-day calendar, devices registered with their first history row (DEVICE-1), and the
database's PRESC-2 refusal of a protected patient's order to anywhere but the unit."""

from __future__ import annotations

import datetime

import pytest

from logistics.calendar import is_working_day, working_days_after
from logistics.models import LineState, OrderState
from logistics.services.state import LINE_MACHINE, ORDER_MACHINE, order_state_derived

L = LineState
O = OrderState  # noqa: E741


@pytest.mark.parametrize(
    ("lines", "order"),
    [
        ([L.RECEIVED, L.ALLOCATED], O.RECEIVED),
        ([L.ALLOCATED, L.BACKORDERED], O.BACKORDERED),
        ([L.PICKED, L.PACKED], O.PICKED),
        ([L.DELIVERED, L.DISPATCHED], O.PARTLY_DELIVERED),
        ([L.DELIVERED, L.CANCELLED], O.DELIVERED),
        ([L.CANCELLED, L.CANCELLED], O.CANCELLED),
    ],
)
def test_the_order_state_follows_from_its_lines(lines: list[str], order: str) -> None:
    assert order_state_derived(lines) == order


def test_orders_and_lines_only_move_forward_and_stop_cancelling_once_out() -> None:
    assert not ORDER_MACHINE.allowed(O.DELIVERED, O.DISPATCHED)
    assert not ORDER_MACHINE.allowed(O.DISPATCHED, O.CANCELLED)
    assert ORDER_MACHINE.allowed(O.ALLOCATED, O.CANCELLED)
    assert not LINE_MACHINE.allowed(L.DISPATCHED, L.CANCELLED)
    assert not LINE_MACHINE.allowed(L.PACKED, L.ALLOCATED)
    # Picked short: the one move back, to wait for stock.
    assert LINE_MACHINE.allowed(L.PICKING, L.BACKORDERED)


def test_the_calendar_skips_weekends_public_holidays_and_the_eves_that_are_days_off() -> None:
    assert not is_working_day(datetime.date(2026, 6, 19))  # midsommarafton
    assert not is_working_day(datetime.date(2026, 12, 24))  # julafton
    assert not is_working_day(datetime.date(2026, 12, 31))  # nyårsafton
    assert not is_working_day(datetime.date(2026, 1, 6))  # trettondedag jul
    assert is_working_day(datetime.date(2026, 12, 23))  # a half day is a working day
    # Monday 21 December 2026 + 7 working days: 22, 23, 28, 29, 30, 4 Jan (1 Jan off), 5 Jan.
    assert working_days_after(datetime.date(2026, 12, 21), 7) == datetime.date(2027, 1, 5)
