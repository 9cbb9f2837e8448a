"""Many order lines moved at once (allocation of thousands of lines), on the same tables of
moves as :mod:`logistics.services.state`: each move is checked against ``LINE_MACHINE``, the
lines are moved with one conditional UPDATE per (from, to) pair (row count checked), their
history written in one INSERT, and the orders brought up to the state their lines give, with
their own history, in a few statements whatever the number of lines."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from logistics.models import (
    CustomerOrder,
    CustomerOrderLine,
    CustomerOrderTransition,
    OrderLineTransition,
)
from logistics.services.state import (
    LINE_MACHINE,
    ORDER_CLOSED_STATES,
    ORDER_MACHINE,
    order_state_derived,
)
from patients.bulk import ids_update, rows_insert
from patients.transitions import NOTE_LENGTH, StaleState
from protection.services.case_end import case_closed_record

# The history rows' columns, one list each, written with one INSERT (``at`` is the
# database's clock, as a history row saved one by one has).
HISTORY_COLUMNS = ("subject", "from_state", "to_state", "by_id", "note")


def _actor(by: Any) -> Any:
    return by if by is not None and getattr(by, "is_authenticated", False) else None


def history_add(
    history: dict[str, list[Any]],
    ids: list[int],
    from_state: str,
    to_state: str,
    actor: Any,
    note: str,
) -> None:
    """The history rows of ``ids`` moved from one state to another, added to ``history``."""
    count = len(ids)
    history["subject"] += ids
    history["from_state"] += [from_state] * count
    history["to_state"] += [to_state] * count
    history["by_id"] += [actor.pk if actor is not None else None] * count
    history["note"] += [note] * count


def lines_move_many(
    *, moves: list[tuple[int, int, str, str]], by: Any = None, note: str = ""
) -> None:
    """``moves``: (line id, order id, from state, to state) of lines the caller has locked. In
    the caller's transaction."""
    if not moves:
        return
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for line_id, _order_id, from_state, to_state in moves:
        if from_state == to_state:
            continue
        if not LINE_MACHINE.allowed(from_state, to_state):
            raise StaleState(f"order line {line_id}: {from_state!r} -> {to_state!r}")
        groups[(from_state, to_state)].append(line_id)
    history: dict[str, list[Any]] = {name: [] for name in HISTORY_COLUMNS}
    actor = _actor(by)
    for (from_state, to_state), ids in groups.items():
        moved = ids_update(CustomerOrderLine, ids, {"state": to_state}, where={"state": from_state})
        if moved != len(ids):
            raise StaleState(f"order lines: {len(ids) - moved} no longer {from_state!r}")
        history_add(history, ids, from_state, to_state, actor, note[:NOTE_LENGTH])
    rows_insert(OrderLineTransition, {"line_id": history.pop("subject"), **history})
    orders_state_sync_many(order_ids={order_id for _l, order_id, _f, _t in moves}, by=by)


def orders_state_sync_many(*, order_ids: set[int], by: Any = None) -> None:
    """Lock the orders (in id order) and move each to the state its lines give."""
    if not order_ids:
        return
    current = dict(
        CustomerOrder.objects.select_for_update()
        .filter(pk__in=order_ids)
        .order_by("pk")
        .values_list("pk", "state")
    )
    states: dict[int, list[str]] = defaultdict(list)
    for order_id, state in CustomerOrderLine.objects.filter(order_id__in=order_ids).values_list(
        "order_id", "state"
    ):
        states[order_id].append(state)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for order_id, state in current.items():
        target = order_state_derived(states[order_id])
        if target != state:
            if not ORDER_MACHINE.allowed(state, target):
                raise StaleState(f"customer order {order_id}: {state!r} -> {target!r}")
            groups[(state, target)].append(order_id)
    history: dict[str, list[Any]] = {name: [] for name in HISTORY_COLUMNS}
    actor = _actor(by)
    for (from_state, to_state), ids in groups.items():
        ids_update(CustomerOrder, ids, {"state": to_state}, where={"state": from_state})
        history_add(history, ids, from_state, to_state, actor, "")
    rows_insert(CustomerOrderTransition, {"order_id": history.pop("subject"), **history})
    closed = [
        order_id
        for (_from, to_state), ids in groups.items()
        if to_state in ORDER_CLOSED_STATES
        for order_id in ids
    ]
    # ACCESS-8: an order delivered or cancelled may be its unit's last open case.
    for patient_id, unit_id in (
        CustomerOrder.objects.filter(pk__in=closed, patient__isnull=False)
        .values_list("patient_id", "unit_id")
        .distinct()
    ):
        case_closed_record(patient_id=patient_id, unit_id=unit_id)
