"""PRESC-2 on the supply side: when a patient becomes protected (or linked to a protected
person, PROT-5), their open customer orders go to the prescriber's unit with the prescriber as
contact, never by the supplier (LOG-3), with a history row naming the order number only, and
the prescriber is told by order number (LEAK-2). Papers already made on the ordinary route are
withdrawn by PRINT-3 (protection.documents), which listens to the same event.

Idempotent: an order already going to the unit is left alone. A lost event, or a new register
link, is caught by :func:`orders_reroute_sweep` on the beat schedule.
"""

from __future__ import annotations

from django.db import models, transaction
from django.db.models import F, Q
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from logistics.models import (
    CustomerOrder,
    DestinationKind,
    OrderKind,
    OrderState,
)
from logistics.services.direct import direct_deliveries_withdraw
from logistics.services.orders.create import presc2_enforced
from logistics.services.state import ORDER_MACHINE
from patients.services import notification_send
from patients.transitions import history_record
from prescriptions.services.access import patient_guarded
from protection.gate import linked_patient_ids
from protection.rls import system_context

CLOSED = (OrderState.DELIVERED, OrderState.CANCELLED)


def _at_unit() -> Q:
    return Q(
        patient_protected=True,
        destination_kind=DestinationKind.UNIT,
        delivery_unit_id=F("unit_id"),
        delivery_contact_id=F("orderer_id"),
        pickup_point__isnull=True,
        supplier_direct=False,
    )


@transaction.atomic
def _reroute_patient(patient_id: int) -> int:
    orders = (
        CustomerOrder.objects.select_for_update()
        .filter(patient_id=patient_id, kind=OrderKind.CUSTOMER)
        .exclude(state__in=CLOSED)
        .exclude(_at_unit())
        .select_related("orderer")
        .order_by("pk")
    )
    moved = 0
    for order in orders:
        with presc2_enforced(order.number):
            CustomerOrder.objects.filter(pk=order.pk).update(
                patient_protected=True,
                destination_kind=DestinationKind.UNIT,
                delivery_unit_id=order.unit_id,
                delivery_contact_id=order.orderer_id,
                pickup_point=None,
                supplier_direct=False,
            )
        # LEAK-4: what was with the supplier is withdrawn and listed until the supplier is told.
        direct_deliveries_withdraw(order_id=order.pk)
        moved += 1
        history_record(
            machine=ORDER_MACHINE,
            obj=order,
            from_state=order.state,
            to_state=order.state,
            note=f"PRESC-2: order {order.number} delivered to the prescriber's unit",
        )
        notification_send(
            user=order.orderer,
            subject=_("Order %(number)s: delivery moved to your unit") % {"number": order.number},
            body=_(
                "Order %(number)s is now delivered to your unit, with you as contact, by the "
                "region's own staff. Hand the device over at the unit."
            )
            % {"number": order.number},
        )
    return moved


def orders_reroute_for_protected(*, patient_id: int) -> int:
    """Re-route the open orders of the patient and of those the register links to them."""
    with transaction.atomic(), system_context():
        concerned = sorted(linked_patient_ids(patient_id))
    return sum(_reroute_patient(pid) for pid in concerned if patient_guarded(pid))


def orders_reroute_sweep() -> int:
    """Every open customer order not yet at the unit whose patient the gate now guards."""
    guarded = RawSQL(
        "EXISTS (SELECT 1 FROM hjm_patient_guards(logistics_customerorder.patient_id))",
        [],
        output_field=models.BooleanField(),
    )
    patient_ids = (
        CustomerOrder.objects.filter(kind=OrderKind.CUSTOMER)
        .exclude(state__in=CLOSED)
        .exclude(_at_unit())
        .annotate(guarded=guarded)
        .filter(guarded=True)
        .values_list("patient_id", flat=True)
        .distinct()
    )
    return sum(_reroute_patient(pid) for pid in sorted({p for p in patient_ids if p}))
