"""The floor's state machines as data (house style 4), on the one helper ``patients.transitions``.

An order line moves forward through the store (received → waiting for stock or allocated →
on a pick wave → picked → packed → out for delivery → delivered), or is cancelled before it
leaves. The order's state is not set by hand: after each line move :func:`order_state_sync`
derives it from the lines (the least advanced open line; partly delivered when some lines are
delivered and others not) and moves the order there, forward only, with its own history row.
A device's status moves through ``DEVICE_MACHINE``; a change of holder or place that keeps the
status is a history row from and to the same status (:func:`device_note`).
"""

from __future__ import annotations

from typing import Any, Final

from django.db import IntegrityError
from django.db.models.functions import Now
from django.utils.translation import gettext as _

from logistics.models import (
    ADAPTATION_BLOCKED_STATUSES,
    CustomerOrder,
    CustomerOrderLine,
    CustomerOrderTransition,
    Device,
    DeviceEvent,
    DeviceStatus,
    LineState,
    OrderLineTransition,
    OrderState,
)
from logistics.services.errors import LogisticsError, StateNotAllowed
from patients.transitions import (
    CREATED,
    StateMachine,
    history_record,
    transition_apply,
    transition_created,
)
from protection.services.case_end import case_closed_record

L = LineState
O = OrderState  # noqa: E741 - the order's states, as L is the line's
D = DeviceStatus

# Line states in the order goods move; the order's state is read off this ranking.
LINE_RANK: Final = {
    L.RECEIVED: 0,
    L.BACKORDERED: 1,
    L.ALLOCATED: 2,
    L.PICKING: 3,
    L.PICKED: 4,
    L.PACKED: 5,
    L.DISPATCHED: 6,
    L.DELIVERED: 8,
}
ORDER_RANK: Final = {
    O.RECEIVED: 0,
    O.BACKORDERED: 1,
    O.ALLOCATED: 2,
    O.PICKING: 3,
    O.PICKED: 4,
    O.PACKED: 5,
    O.DISPATCHED: 6,
    O.PARTLY_DELIVERED: 7,
    O.DELIVERED: 8,
}
# A line may be cancelled (makulera) until it has left the store.
CANCELLABLE_LINE_STATES: Final = frozenset(
    {L.RECEIVED, L.BACKORDERED, L.ALLOCATED, L.PICKING, L.PICKED, L.PACKED}
)
# The message of the evidence trigger of migration 0010 (QUAL-2).
EVIDENCE_REFUSAL: Final = "QUAL-2: device"
OPEN_ORDER_STATES: Final = frozenset(set(ORDER_RANK) - {O.DELIVERED})
# A case closed for ACCESS-8: nothing more will reach the patient on this order.
ORDER_CLOSED_STATES: Final = frozenset({O.DELIVERED, O.CANCELLED})


def _forward(ranks: dict[Any, int], state: Any) -> frozenset[str]:
    return frozenset(s for s, rank in ranks.items() if rank > ranks[state])


def _line_refused(line: CustomerOrderLine, from_state: str, to_state: str) -> Exception:
    return StateNotAllowed(
        _("Order line %(line)s is %(state)s and cannot become %(to)s.")
        % {"line": line.position, "state": L(from_state).label, "to": L(to_state).label}
    )


def _order_refused(order: CustomerOrder, from_state: str, to_state: str) -> Exception:
    return StateNotAllowed(
        _("Order %(number)s is %(state)s and cannot become %(to)s.")
        % {"number": order.number, "state": O(from_state).label, "to": O(to_state).label}
    )


def _device_refused(device: Device, from_state: str, to_state: str) -> Exception:
    return StateNotAllowed(
        _("Device %(serial)s is %(state)s and cannot become %(to)s.")
        % {"serial": device.serial_number, "state": D(from_state).label, "to": D(to_state).label}
    )


LINE_MACHINE: Final = StateMachine(
    name="order line",
    moves={
        CREATED: frozenset({L.RECEIVED}),
        # A backordered line is allocated when stock arrives; a line on a wave may be taken
        # off it (picked short) and wait for stock again: the one move back, before it leaves.
        **{
            state: _forward(LINE_RANK, state)
            | ({L.CANCELLED} if state in CANCELLABLE_LINE_STATES else frozenset())
            for state in LINE_RANK
        },
        L.PICKING: _forward(LINE_RANK, L.PICKING) | {L.CANCELLED, L.BACKORDERED},
    },
    history_model=OrderLineTransition,
    subject_field="line",
    refuse=_line_refused,
)

ORDER_MACHINE: Final = StateMachine(
    name="customer order",
    moves={
        CREATED: frozenset({O.RECEIVED}),
        **{
            state: _forward(ORDER_RANK, state)
            | ({O.CANCELLED} if ORDER_RANK[state] < ORDER_RANK[O.DISPATCHED] else frozenset())
            for state in ORDER_RANK
        },
        # A line picked short waits for stock again; the order follows its least advanced line.
        O.PICKING: _forward(ORDER_RANK, O.PICKING) | {O.CANCELLED, O.BACKORDERED},
        O.PICKED: _forward(ORDER_RANK, O.PICKED) | {O.CANCELLED, O.BACKORDERED},
    },
    history_model=CustomerOrderTransition,
    subject_field="order",
    refuse=_order_refused,
)

DEVICE_MACHINE: Final = StateMachine(
    name="device",
    moves={
        # A device the supplier delivers straight to the patient (LOG-3) is first registered
        # on loan; every other device starts in a store.
        CREATED: frozenset({D.IN_STOCK, D.ON_LOAN}),
        D.IN_STOCK: frozenset({D.ALLOCATED, D.IN_USE_AT_UNIT, D.IN_WORKSHOP, D.LOST, D.SCRAPPED}),
        D.ALLOCATED: frozenset({D.IN_STOCK, D.IN_TRANSIT}),
        D.IN_TRANSIT: frozenset({D.ON_LOAN, D.AT_UNIT, D.IN_USE_AT_UNIT, D.IN_STOCK, D.LOST}),
        D.AT_UNIT: frozenset({D.ON_LOAN, D.IN_STOCK, D.LOST}),
        D.ON_LOAN: frozenset({D.IN_STOCK, D.IN_WORKSHOP, D.LOST}),
        D.IN_USE_AT_UNIT: frozenset({D.IN_STOCK, D.IN_WORKSHOP, D.LOST}),
        D.IN_WORKSHOP: frozenset({D.IN_STOCK, D.ON_LOAN, D.IN_USE_AT_UNIT, D.SCRAPPED}),
        # Found again within three months (the loss process, DEVICE-4): inspected first.
        D.LOST: frozenset({D.IN_STOCK, D.IN_WORKSHOP, D.SCRAPPED}),
        D.SCRAPPED: frozenset(),
    },
    history_model=DeviceEvent,
    subject_field="device",
    state_field="status",
    refuse=_device_refused,
)


def order_created(*, order: CustomerOrder, by: Any = None, note: str = "") -> None:
    transition_created(machine=ORDER_MACHINE, obj=order, by=by, note=note)


def line_created(*, line: CustomerOrderLine, by: Any = None, note: str = "") -> None:
    transition_created(machine=LINE_MACHINE, obj=line, by=by, note=note)


def line_move(
    *, line: CustomerOrderLine, to_state: str, by: Any = None, note: str = "", **fields: Any
) -> None:
    """Move one line (locked by the conditional UPDATE, history row written), then bring its
    order's state up to date. Runs in the caller's transaction."""
    transition_apply(machine=LINE_MACHINE, obj=line, to_state=to_state, by=by, note=note, **fields)
    order_state_sync(order_id=line.order_id, by=by)


def order_state_derived(line_states: list[str]) -> str:
    """The order's state from its lines': cancelled when every line is; else the least advanced
    open line's, except that delivered lines beside undelivered ones make it partly delivered."""
    live = [state for state in line_states if state != L.CANCELLED]
    if not live:
        return O.CANCELLED
    least = min(live, key=lambda state: LINE_RANK[L(state)])
    if least != L.DELIVERED and L.DELIVERED in live:
        return O.PARTLY_DELIVERED
    return str(least)


def order_state_sync(*, order_id: int, by: Any = None, note: str = "") -> CustomerOrder:
    """Lock the order and move it to the state its lines give, with a history row; nothing
    when it is already there. A derived state behind the current one (a line picked short)
    is allowed only where the table allows it."""
    order = CustomerOrder.objects.select_for_update().get(pk=order_id)
    states = list(
        CustomerOrderLine.objects.filter(order_id=order_id).values_list("state", flat=True)
    )
    target = order_state_derived(states)
    if target != order.state:
        transition_apply(machine=ORDER_MACHINE, obj=order, to_state=target, by=by, note=note)
        if target in ORDER_CLOSED_STATES:
            # ACCESS-8: it may have been the unit's last open case for the patient.
            case_closed_record(patient_id=order.patient_id, unit_id=order.unit_id)
    return order


def device_created(*, device: Device, by: Any = None, note: str = "") -> None:
    transition_created(machine=DEVICE_MACHINE, obj=device, by=by, note=note)


def device_move(
    *, device: Device, to_state: str, by: Any = None, note: str = "", **fields: Any
) -> None:
    """Change a device's status (and, with it, holder or place: ``fields``), with its history
    row. The note names order numbers and stores, never a person (the card is read by staff
    without a grant). QUAL-2: a device kept as evidence of an open incident may not be
    reissued, reconditioned or scrapped; the database's trigger (migration 0010) refuses it,
    and the refusal becomes a message here (no extra query on every move). PRESC-6: a device
    whose adaptation is unsigned goes nowhere near use."""
    if to_state in ADAPTATION_BLOCKED_STATUSES:
        device_adaptation_check(device)
    try:
        transition_apply(
            machine=DEVICE_MACHINE, obj=device, to_state=to_state, by=by, note=note, **fields
        )
    except IntegrityError as exc:
        if EVIDENCE_REFUSAL not in str(exc):
            raise
        raise StateNotAllowed(
            _(
                "Device %(serial)s is kept as evidence of an open incident: it cannot become "
                "%(to)s until the incident is closed."
            )
            % {"serial": device.serial_number, "to": D(to_state).label}
        ) from None


def device_adaptation_mark(*, device_id: int) -> None:
    """PRESC-6: the device is adapted for a patient and waits for the prescriber's signature
    (kept if already waiting). In the caller's transaction."""
    # The database's clock, as the record's ``recorded_at``: migration 0012's trigger compares
    # the two, and within one transaction they are equal.
    Device.objects.filter(pk=device_id, adaptation_unsigned_since__isnull=True).update(
        adaptation_unsigned_since=Now()
    )


def device_adaptation_check(device: Device) -> None:
    """PRESC-6: refuse to send out or hand over a device whose adaptation is not yet signed
    (the database refuses it too: ``device_adaptation_signed_before_use``)."""
    if device.adaptation_unsigned_since is not None:
        raise LogisticsError(
            _(
                "Device %(serial)s is specially adapted and cannot be delivered or put to use "
                "before the prescriber has signed the adaptation. Send the signing request from "
                "the work order, or record the paper signature."
            )
            % {"serial": device.serial_number}
        )


def device_note(*, device: Device, by: Any = None, note: str) -> None:
    """A history row that keeps the status: a change of holder or place, a label reprinted."""
    history_record(
        machine=DEVICE_MACHINE,
        obj=device,
        from_state=device.status,
        to_state=device.status,
        by=by,
        note=note,
    )
