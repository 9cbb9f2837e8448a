"""Cancelling (makulera) a customer order, or some of its lines, with a reason: only lines that
have not left the store; their reservations are released and their backorders undone; the
order's state follows its lines (cancelled when every line is)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.models import CustomerOrder, CustomerOrderLine, LineState, Reservation
from logistics.models import ReservationState as R
from logistics.services.errors import LogisticsError
from logistics.services.state import CANCELLABLE_LINE_STATES, line_move
from logistics.services.stock import level_change, level_locked, reservation_end
from patients.identity import contains_identity_number
from prescriptions.models import OrderRelease
from prescriptions.services.errors import StateNotAllowed
from protection.freetext import free_text_refusal


def reason_check(reason: str, *, patient_id: int | None) -> str:
    """LEAK-1: the reason is read by staff without a grant: no identity in it."""
    reason = reason.strip()
    label = _("Reason")
    if not reason:
        raise LogisticsError(_("Reason: say why the order is cancelled."))
    if contains_identity_number(reason):
        raise LogisticsError(_("%(field)s: do not write a personnummer.") % {"field": label})
    if patient_id is not None:
        refusal = free_text_refusal(reason, field=str(label), patient_ids=[patient_id])
        if refusal is not None:
            raise LogisticsError(refusal)
    return reason[:300]


@transaction.atomic
def order_cancel(
    *, by: Any, number: str, reason: str, line_ids: list[int] | None = None
) -> CustomerOrder:
    """Cancel the whole order (every line not yet out for delivery) or the given lines. The
    caller has checked that ``by`` may act on the order (the page's selector)."""
    order = CustomerOrder.objects.select_for_update().filter(number=number).first()
    if order is None:
        raise LogisticsError(_("There is no order %(number)s.") % {"number": number})
    reason = reason_check(reason, patient_id=order.patient_id)
    lines = list(CustomerOrderLine.objects.select_for_update().filter(order=order).order_by("pk"))
    if line_ids is not None:
        wanted = set(line_ids)
        chosen = [line for line in lines if line.pk in wanted]
        if not chosen or len(chosen) != len(wanted):
            raise LogisticsError(
                _("Choose the lines of order %(number)s to cancel.") % {"number": number}
            )
        for line in chosen:
            if line.state not in CANCELLABLE_LINE_STATES:
                raise LogisticsError(
                    _("Order %(number)s line %(line)s has left the store and cannot be cancelled.")
                    % {"number": number, "line": line.position}
                )
    else:
        chosen = [line for line in lines if line.state in CANCELLABLE_LINE_STATES]
        if not chosen:
            raise LogisticsError(
                _("Order %(number)s has no line left to cancel.") % {"number": number}
            )
    for line in chosen:
        for reservation in Reservation.objects.filter(order_line=line, state=R.ACTIVE).order_by(
            "pk"
        ):
            reservation_end(reservation=reservation, state=R.RELEASED, by=by)
        if line.state == LineState.BACKORDERED:
            level = level_locked(article_id=line.article_id, location_id=order.from_location_id)
            level_change(level=level, backordered=-line.quantity)
        line_move(
            line=line,
            to_state=LineState.CANCELLED,
            by=by,
            note=_("Cancelled: %(reason)s") % {"reason": reason},
            cancelled_reason=reason,
        )
    order.refresh_from_db()
    if order.state == LineState.CANCELLED:
        CustomerOrder.objects.filter(pk=order.pk).update(cancelled_reason=reason)
        order.cancelled_reason = reason
    return order


# A line in one of these has not reached a pick wave: stopping it takes nothing off a shelf.
NOT_YET_PICKED: frozenset[str] = frozenset(
    {LineState.RECEIVED, LineState.BACKORDERED, LineState.ALLOCATED, LineState.CANCELLED}
)


def order_withdraw_before_picking(prescription_id: int, reason: str, by: Any) -> None:
    """A consumable withdrawal is cancelled (``prescriptions.registry.order_withdraw``, in its
    transaction): a release not yet taken is claimed (the conditional UPDATE the order task
    uses, so no order is ever made of it); an order already made is cancelled whole if no line
    has reached a pick wave, and refused otherwise."""
    claimed = OrderRelease.objects.filter(
        prescription_id=prescription_id, taken_at__isnull=True
    ).update(taken_at=timezone.now())
    if claimed == 1:
        return
    order = (
        CustomerOrder.objects.select_for_update().filter(prescription_id=prescription_id).first()
    )
    if order is None:
        return  # never released: nothing to stop
    states = set(CustomerOrderLine.objects.filter(order=order).values_list("state", flat=True))
    if not states <= NOT_YET_PICKED:
        raise StateNotAllowed(
            _(
                "Order %(number)s is already being picked or has left the store: it can no longer "
                "be cancelled here; the store can stop it."
            )
            % {"number": order.number}
        )
    if states - {LineState.CANCELLED}:
        try:
            order_cancel(by=by, number=order.number, reason=reason)
        except LogisticsError as exc:
            raise StateNotAllowed(str(exc)) from exc
