"""Direct delivery by the supplier (LOG-3, LEAK-4, LEAK-5): an order of articles their supplier
delivers straight to the patient is handed to the supplier, one :class:`DirectDelivery` per
supplier, and its lines are delivered when the supplier confirms the delivery (a
serial-numbered article becomes a device the patient holds, DEVICE-1).

Never for a protected patient (the order is then the region's own: migration 0002 and the
order's creation). When a patient becomes protected the re-routing withdraws what is still with
the supplier (:func:`direct_deliveries_withdraw`); the order's lines are then allocated from
the region's store like any other, and the withdrawal stays listed until someone confirms the
supplier was told, by order number only (:func:`direct_delivery_withdrawal_confirm`).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Final

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.models import (
    CustomerOrder,
    CustomerOrderLine,
    DirectDelivery,
    DirectDeliveryState,
    DirectDeliveryTransition,
    LineState,
)
from logistics.services.delivery import acting_user, free_text_checked
from logistics.services.devices import device_register_delivered
from logistics.services.errors import LogisticsError
from logistics.services.state import line_move
from patients.transitions import CREATED, StateMachine, transition_apply, transition_created

S = DirectDeliveryState

DIRECT_MACHINE: Final = StateMachine(
    name="direct delivery",
    moves={
        CREATED: frozenset({S.ORDERED}),
        S.ORDERED: frozenset({S.DELIVERED, S.WITHDRAWN}),
        S.DELIVERED: frozenset(),
        S.WITHDRAWN: frozenset(),
    },
    history_model=DirectDeliveryTransition,
    subject_field="delivery",
)


def direct_delivery_lines(delivery: DirectDelivery) -> QuerySet[CustomerOrderLine]:
    """The order's lines this supplier delivers (its articles' agreements are the supplier's)."""
    return (
        CustomerOrderLine.objects.filter(
            order_id=delivery.order_id, article__agreement__supplier_id=delivery.supplier_id
        )
        .select_related("article")
        .order_by("position")
    )


def direct_deliveries_order(*, order: CustomerOrder, by: Any = None) -> list[DirectDelivery]:
    """Hand a supplier-delivered order to its suppliers, in the caller's transaction (the
    order's creation). Nothing for any other order; the database refuses one for a patient the
    gate guards (migration 0007)."""
    if not order.supplier_direct or order.patient_protected:
        return []
    supplier_ids = sorted(
        set(
            CustomerOrderLine.objects.filter(order=order).values_list(
                "article__agreement__supplier_id", flat=True
            )
        )
    )
    made = []
    for supplier_id in supplier_ids:
        delivery = DirectDelivery.objects.create(order=order, supplier_id=supplier_id)
        transition_created(
            machine=DIRECT_MACHINE,
            obj=delivery,
            by=by,
            note=_("Order %(number)s") % {"number": order.number},
        )
        made.append(delivery)
    return made


def _locked(delivery_id: int) -> DirectDelivery:
    delivery = (
        DirectDelivery.objects.select_for_update(of=("self",))
        .select_related("order", "supplier")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:
        raise LogisticsError(_("The direct delivery does not exist."))
    return delivery


@transaction.atomic
def direct_delivery_confirm(
    *,
    delivery_id: int,
    delivered_on: datetime.date,
    received_by: str,
    serials: Mapping[int, str],
    by: Any,
) -> DirectDelivery:
    """The supplier reports the delivery: its lines are delivered on that day; each
    serial-numbered line needs the serial number the supplier gives (``serials`` by line id),
    which registers the device with the patient as holder."""
    delivery = _locked(delivery_id)
    order = CustomerOrder.objects.select_for_update().get(pk=delivery.order_id)
    if delivery.state != S.ORDERED or not order.supplier_direct:
        raise LogisticsError(
            _("Order %(number)s: the delivery by %(supplier)s is %(state)s; nothing to confirm.")
            % {
                "number": order.number,
                "supplier": delivery.supplier.name,
                "state": S(delivery.state).label,
            }
        )
    if delivered_on > timezone.localdate():
        raise LogisticsError(_("Delivered on: the date cannot be in the future."))
    received = free_text_checked(_("Received by"), received_by, order)
    lines = [line for line in direct_delivery_lines(delivery) if line.state == LineState.RECEIVED]
    missing = [
        line.position
        for line in lines
        if line.article.serial_numbered and not serials.get(line.pk, "").strip()
    ]
    if missing:
        raise LogisticsError(
            _("Serial number, line %(lines)s: write the serial number the supplier gave.")
            % {"lines": ", ".join(str(position) for position in missing)}
        )
    note = _("Delivered by %(supplier)s, order %(number)s") % {
        "supplier": delivery.supplier.name,
        "number": order.number,
    }
    for line in lines:
        fields: dict[str, Any] = {"delivered_on": delivered_on}
        if line.article.serial_numbered:
            fields["device"] = device_register_delivered(
                article=line.article,
                serial_number=serials[line.pk],
                owner_region_id=order.unit.unit.region_id,
                patient_id=order.patient_id,
                received_on=delivered_on,
                by=by,
                note=note,
            )
        line_move(line=line, to_state=LineState.DELIVERED, by=by, note=note, **fields)
    transition_apply(
        machine=DIRECT_MACHINE,
        obj=delivery,
        to_state=S.DELIVERED,
        by=by,
        delivered_on=delivered_on,
        received_by=received[:200],
    )
    return delivery


def direct_deliveries_withdraw(*, order_id: int, by: Any = None) -> int:
    """LEAK-4, in the re-routing's transaction: what is still with the supplier is withdrawn
    and listed until someone confirms the supplier was told (by order number only)."""
    withdrawn = 0
    for delivery in DirectDelivery.objects.select_for_update().filter(
        order_id=order_id, state=S.ORDERED
    ):
        transition_apply(
            machine=DIRECT_MACHINE,
            obj=delivery,
            to_state=S.WITHDRAWN,
            by=by,
            note=_("Delivered by the region's own staff instead"),
        )
        withdrawn += 1
    return withdrawn


@transaction.atomic
def direct_delivery_withdrawal_confirm(*, delivery_id: int, by: Any) -> DirectDelivery:
    """Someone told the supplier to stop (claimed once: a second confirmation is refused)."""
    claimed = DirectDelivery.objects.filter(
        pk=delivery_id, state=S.WITHDRAWN, withdrawal_confirmed_at__isnull=True
    ).update(withdrawal_confirmed_at=timezone.now(), withdrawal_confirmed_by=acting_user(by))
    if claimed != 1:
        raise LogisticsError(_("This withdrawal is already confirmed, or there is none."))
    return DirectDelivery.objects.select_related("order", "supplier").get(pk=delivery_id)
