"""Pick waves: allocated lines of a store grouped by delivery day and route, built set-based
(a wave of thousands of lines in a few statements), and picking: each line confirmed, a
serial-numbered article's device scanned or typed and tied to the line (DEVICE-1), or the line
picked short and waiting for stock again."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Final

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.calendar import next_working_day
from logistics.models import (
    CustomerOrder,
    CustomerOrderLine,
    CustomerOrderTransition,
    Device,
    DeviceStatus,
    LineState,
    OrderLineTransition,
    PickItem,
    PickItemState,
    PickWave,
    PickWaveTransition,
    Reservation,
    ReservationState,
    WaveState,
)
from logistics.selectors.destinations import (
    DESTINATION_RELATED,
    area_for_postal_code,
    area_next_day,
    areas_all,
    destinations_for,
)
from logistics.selectors.recalls import notice_blocking
from logistics.services.errors import LogisticsError
from logistics.services.state import (
    ORDER_MACHINE,
    device_adaptation_mark,
    device_move,
    line_move,
    order_state_derived,
)
from logistics.services.state_bulk import HISTORY_COLUMNS, history_add
from logistics.services.stock import level_change, level_locked, reservation_end
from patients.bulk import ids_update, rows_insert
from patients.transitions import CREATED, StateMachine, transition_apply, transition_created

WAVE_MACHINE: Final = StateMachine(
    name="pick wave",
    moves={CREATED: frozenset({WaveState.OPEN}), WaveState.OPEN: frozenset({WaveState.PICKED})},
    history_model=PickWaveTransition,
    subject_field="wave",
)


@dataclass(frozen=True)
class Unrouted:
    """An order whose allocated lines cannot go on a wave: no area serves its postal code."""

    order_number: str
    reason: str


@dataclass(frozen=True)
class WavePlan:
    waves: list[PickWave]
    unrouted: list[Unrouted]


def orders_routed(
    orders: list[CustomerOrder], ready_on: datetime.date
) -> tuple[dict[int, tuple[Any, datetime.date]], list[Unrouted]]:
    """Each order's (area, delivery day), and the orders that have none, with the reason."""
    areas = areas_all()
    destinations = destinations_for(orders)
    routed: dict[int, tuple[Any, datetime.date]] = {}
    unrouted: list[Unrouted] = []
    for order in orders:
        destination = destinations[order.pk]
        area = area_for_postal_code(destination.postal_code, areas)
        day = area_next_day(area, ready_on) if area is not None else None
        if area is None or day is None:
            reason = (
                _("No delivery area serves the destination's postal code.")
                if destination.postal_code
                else _("The delivery address could not be read; ask customer service.")
            )
            unrouted.append(Unrouted(order_number=order.number, reason=reason))
            continue
        routed[order.pk] = (area, day)
    return routed, unrouted


def _orders_sync(order_ids: set[int], by: Any) -> None:
    """The orders' states from their lines, set-based: one read of the lines, one UPDATE per
    (from, to) pair and one insert of history rows."""
    states: dict[int, list[str]] = defaultdict(list)
    for order_id, state in CustomerOrderLine.objects.filter(order_id__in=order_ids).values_list(
        "order_id", "state"
    ):
        states[order_id].append(state)
    current = dict(
        CustomerOrder.objects.select_for_update()
        .filter(pk__in=order_ids)
        .values_list("pk", "state")
    )
    moves: dict[tuple[str, str], list[int]] = defaultdict(list)
    for order_id, lines in states.items():
        target = order_state_derived(lines)
        if target != current[order_id]:
            ORDER_MACHINE.check(CustomerOrder(pk=order_id), current[order_id], target)
            moves[(current[order_id], target)].append(order_id)
    user = by if getattr(by, "is_authenticated", False) else None
    history: dict[str, list[Any]] = {name: [] for name in HISTORY_COLUMNS}
    for (from_state, to_state), ids in moves.items():
        ids_update(CustomerOrder, ids, {"state": to_state}, where={"state": from_state})
        history_add(history, ids, from_state, to_state, user, "")
    rows_insert(CustomerOrderTransition, {"order_id": history.pop("subject"), **history})


@transaction.atomic
def waves_create(
    *, store_id: int, delivery_on: datetime.date, by: Any, today: datetime.date | None = None
) -> WavePlan:
    """Put the store's allocated lines whose orders are delivered on ``delivery_on`` on pick
    waves, one per route (delivery area). Lines already on a wave are not taken again. Set-based:
    the lines are locked in one query, the items and history inserted in bulk, and the lines
    moved with one UPDATE."""
    ready_on = next_working_day(today or timezone.localdate())
    lines = list(
        CustomerOrderLine.objects.select_for_update(of=("self",))
        .filter(state=LineState.ALLOCATED, order__from_location_id=store_id)
        .values_list("pk", "order_id")
    )
    order_ids = {order_id for _pk, order_id in lines}
    orders = list(
        CustomerOrder.objects.filter(pk__in=order_ids).select_related(*DESTINATION_RELATED)
    )
    routed, unrouted = orders_routed(orders, ready_on)
    by_area: dict[int, list[int]] = defaultdict(list)
    area_of: dict[int, Any] = {}
    for pk, order_id in lines:
        place = routed.get(order_id)
        if place is None or place[1] != delivery_on:
            continue
        by_area[place[0].pk].append(pk)
        area_of[place[0].pk] = place[0]
    user = by if getattr(by, "is_authenticated", False) else None
    waves = []
    for area_id, line_ids in sorted(by_area.items()):
        wave = PickWave.objects.create(
            store_id=store_id, delivery_on=delivery_on, area=area_of[area_id], created_by=user
        )
        transition_created(machine=WAVE_MACHINE, obj=wave, by=by)
        rows_insert(
            PickItem,
            {
                "wave_id": [wave.pk] * len(line_ids),
                "line_id": line_ids,
                "state": [PickItemState.TO_PICK.value] * len(line_ids),
            },
        )
        moved = ids_update(
            CustomerOrderLine,
            line_ids,
            {"state": LineState.PICKING},
            where={"state": LineState.ALLOCATED},
        )
        if moved != len(line_ids):
            raise LogisticsError(_("Some lines changed meanwhile. Create the waves again."))
        history: dict[str, list[Any]] = {name: [] for name in HISTORY_COLUMNS}
        history_add(history, line_ids, LineState.ALLOCATED, LineState.PICKING, user, wave.number)
        rows_insert(OrderLineTransition, {"line_id": history.pop("subject"), **history})
        waves.append(wave)
    touched = {
        order_id
        for pk, order_id in lines
        if (place := routed.get(order_id)) is not None and place[1] == delivery_on
    }
    if touched:
        _orders_sync(touched, by)
    return WavePlan(waves=waves, unrouted=unrouted)


def _item_locked(*, wave_id: int, item_id: int) -> PickItem:
    item = (
        PickItem.objects.select_for_update(of=("self",))
        .select_related("line__article", "line__order", "wave")
        .filter(pk=item_id, wave_id=wave_id)
        .first()
    )
    if item is None:
        raise LogisticsError(_("That line is not on this wave."))
    if item.state != PickItemState.TO_PICK:
        raise LogisticsError(
            _("Line %(line)s of order %(number)s is already done.")
            % {"line": item.line.position, "number": item.line.order.number}
        )
    return item


def _reservation_of(line: CustomerOrderLine) -> Reservation | None:
    return (
        Reservation.objects.select_for_update()
        .filter(order_line_id=line.pk, state=ReservationState.ACTIVE)
        .first()
    )


def _wave_close_if_done(wave: PickWave, by: Any) -> None:
    if not PickItem.objects.filter(wave_id=wave.pk, state=PickItemState.TO_PICK).exists():
        locked = PickWave.objects.select_for_update().get(pk=wave.pk)
        if locked.state == WaveState.OPEN:
            transition_apply(machine=WAVE_MACHINE, obj=locked, to_state=WaveState.PICKED, by=by)


@transaction.atomic
def item_pick(*, wave_id: int, item_id: int, by: Any, serial: str = "") -> PickItem:
    """Confirm one line as picked. A serial-numbered article needs the serial of a device of
    that article in stock in the wave's store: it is tied to the line and becomes allocated.
    The reservation is spent and the goods leave the store's physical figure."""
    item = _item_locked(wave_id=wave_id, item_id=item_id)
    line = item.line
    store_id = item.wave.store_id
    fields: dict[str, Any] = {}
    if line.article.serial_numbered:
        serial = serial.strip()
        if not serial:
            raise LogisticsError(_("Serial number: scan or type the device's serial number."))
        device = (
            Device.objects.select_for_update()
            .filter(article_id=line.article_id, serial_number=serial)
            .first()
        )
        if (
            device is None
            or device.status != DeviceStatus.IN_STOCK
            or device.location_id != (store_id)
        ):
            raise LogisticsError(
                _(
                    "Serial number: %(serial)s is not a device of article %(article)s in stock "
                    "in this store. Check the serial number and scan again."
                )
                % {"serial": serial[:64], "article": line.article.article_number}
            )
        notice = notice_blocking(device.pk)
        if notice is not None:
            raise LogisticsError(
                _(
                    "Serial number: %(serial)s is blocked from delivery by safety notice "
                    "%(notice)s. Put it aside and pick another device of article %(article)s."
                )
                % {
                    "serial": serial[:64],
                    "notice": notice,
                    "article": line.article.article_number,
                }
            )
        device_move(
            device=device,
            to_state=DeviceStatus.ALLOCATED,
            by=by,
            note=_("Picked for order %(number)s") % {"number": line.order.number},
        )
        fields["device"] = device
        adapted = line.prescription_line
        if adapted is not None and adapted.special_adaptation:
            # PRESC-6: adapted for the patient in the workshop; it waits for the signature.
            device_adaptation_mark(device_id=device.pk)
    reservation = _reservation_of(line)
    if reservation is not None:
        reservation_end(reservation=reservation, state=ReservationState.CONSUMED, by=by)
    level = level_locked(article_id=line.article_id, location_id=store_id)
    level_change(level=level, physical=-line.quantity)
    line_move(line=line, to_state=LineState.PICKED, by=by, note=item.wave.number, **fields)
    PickItem.objects.filter(pk=item.pk).update(
        state=PickItemState.PICKED,
        picked_by=by if getattr(by, "is_authenticated", False) else None,
        picked_at=timezone.now(),
    )
    item.state = PickItemState.PICKED
    _wave_close_if_done(item.wave, by)
    return item


@transaction.atomic
def item_short(*, wave_id: int, item_id: int, by: Any) -> PickItem:
    """The goods are not on the shelf: the line waits for stock again (backordered), its
    reservation is released and the shortage counted as a backorder."""
    item = _item_locked(wave_id=wave_id, item_id=item_id)
    line = item.line
    reservation = _reservation_of(line)
    if reservation is not None:
        reservation_end(reservation=reservation, state=ReservationState.RELEASED, by=by)
    level = level_locked(article_id=line.article_id, location_id=item.wave.store_id)
    level_change(level=level, backordered=line.quantity)
    line_move(
        line=line,
        to_state=LineState.BACKORDERED,
        by=by,
        note=_("Picked short on %(wave)s") % {"wave": item.wave.number},
    )
    PickItem.objects.filter(pk=item.pk).update(
        state=PickItemState.SHORT,
        picked_by=by if getattr(by, "is_authenticated", False) else None,
        picked_at=timezone.now(),
    )
    item.state = PickItemState.SHORT
    _wave_close_if_done(item.wave, by)
    return item
