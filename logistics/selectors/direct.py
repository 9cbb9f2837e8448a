"""Reads of direct deliveries for logistics staff: what is with the suppliers, what must be
withdrawn from them (LEAK-4), and one delivery with what its supplier was given.

The list names orders by number and supplier only. A delivery's page shows the delivery address
the supplier was given for an ordinary patient (it is the supplier's to know: LOG-3 keeps
protected patients away from suppliers), and each such read is logged (AUDIT-1); for an order
now going to the unit it shows the unit and the prescriber only, as every other page does.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404

from logistics.models import CustomerOrderLine, DirectDelivery, DirectDeliveryState
from logistics.selectors.destinations import DESTINATION_RELATED, Destination, destinations_for
from logistics.services.direct import direct_delivery_lines
from patients.models import AccessAction, AccessEntry, AccessOutcome
from protection.gate import AccessContext

S = DirectDeliveryState
LIST_LIMIT = 300


def direct_deliveries_with_suppliers() -> QuerySet[DirectDelivery]:
    return (
        DirectDelivery.objects.filter(state=S.ORDERED)
        .select_related("order", "supplier")
        .order_by("order__promised_on", "order__number", "supplier__name")[:LIST_LIMIT]
    )


def direct_withdrawals_open() -> QuerySet[DirectDelivery]:
    """LEAK-4: withdrawn deliveries whose supplier nobody has yet confirmed telling."""
    return (
        DirectDelivery.objects.filter(state=S.WITHDRAWN, withdrawal_confirmed_at__isnull=True)
        .select_related("order", "supplier")
        .order_by("pk")[:LIST_LIMIT]
    )


@dataclass(frozen=True)
class HistoryRow:
    at: datetime.datetime
    state: str  # the state in words
    note: str


@dataclass(frozen=True)
class DirectDeliveryPage:
    delivery: DirectDelivery
    lines: list[CustomerOrderLine]
    destination: Destination
    history: list[HistoryRow]


def direct_delivery_get_for_user(*, ctx: AccessContext, delivery_id: int) -> DirectDeliveryPage:
    """One direct delivery; Http404 when there is none. An ordinary patient's address shown
    is logged as a read of the patient."""
    delivery = (
        DirectDelivery.objects.select_related(
            "supplier",
            "order",
            "order__orderer",
            *(f"order__{name}" for name in DESTINATION_RELATED),
        )
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:
        raise Http404
    order = delivery.order
    destination = destinations_for([order])[order.pk]
    if destination.patient_id is not None:
        AccessEntry.objects.create(
            user_id=ctx.actor.user_id,
            unit_id=ctx.actor.unit_id,
            action=AccessAction.READ,
            outcome=AccessOutcome.ALLOWED,
            patient_id=destination.patient_id,
            patient_protected=False,
            object_type="direct delivery",
            object_id=order.number,
            ip_address=ctx.actor.ip_address,
            session_ref=ctx.actor.session_ref,
        )
    return DirectDeliveryPage(
        delivery=delivery,
        lines=list(direct_delivery_lines(delivery)),
        destination=destination,
        history=[
            HistoryRow(at=row.at, state=str(S(row.to_state).label), note=row.note)
            for row in delivery.transitions.order_by("at", "pk")
        ],
    )
