"""Reads of customer orders for the pages: the prescriber's open orders (their unit's) and one
order with its lines and history.

Who sees what of the patient: a prescriber sees the patient as the gate shows them
(``protection.labels.patient_labels_for_user``): name and personnummer first, or "Skyddade
personuppgifter" and the birth year for a patient the gate masks (a protected patient without
a grant and a confirmed password); each name shown is logged (AUDIT-1). Logistics staff
(``work_orders``) see any order but the patient only as the internal reference, and for a
guarded patient not even that: the order number, unit and prescriber.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Count, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.urls import reverse

from logistics.models import CustomerOrder, CustomerOrderLine, LineState, OrderKind, OrderState
from patients.presenters import PatientCard
from prescriptions.models import PrescriberProfile
from prescriptions.registry import OrderSummary
from protection.gate import AccessContext
from protection.labels import patient_labels_for_user
from protection.permissions import holds_role_permission

VIEW_PRESCRIPTION = "prescriptions.view_prescription"
WORK_ORDERS = "logistics.work_orders"
LIST_LIMIT = 200


def _guarded() -> RawSQL:
    return RawSQL(
        "EXISTS (SELECT 1 FROM hjm_patient_guards(logistics_customerorder.patient_id))",
        [],
        output_field=models.BooleanField(),
    )


def _prescriber_scope(user: Any) -> Q:
    units = PrescriberProfile.objects.filter(user_id=user.pk).values("units")
    return Q(orderer_id=user.pk) | Q(unit_id__in=units)


@dataclass(frozen=True)
class OrderRow:
    order: CustomerOrder
    # The patient as the gate shows them to this user (``patient_labels_for_user``); None for
    # an order without a patient.
    card: PatientCard | None
    delivered_lines: int
    line_count: int


def _cards(ctx: AccessContext, orders: Sequence[CustomerOrder]) -> dict[int, PatientCard]:
    return patient_labels_for_user(
        ctx=ctx,
        rows=[(order.patient_id, order.number) for order in orders if order.patient_id],
        object_type="customer order",
    )


def _open_customer_orders(user: Any) -> QuerySet[CustomerOrder]:
    """My unit's open customer orders: what "Öppna kundorder" lists and the start page counts."""
    return CustomerOrder.objects.filter(_prescriber_scope(user), kind=OrderKind.CUSTOMER).exclude(
        state__in=[OrderState.DELIVERED, OrderState.CANCELLED]
    )


def orders_open_count_for_user(*, user: Any) -> int:
    """How many open orders "Öppna kundorder" lists for this user (the start page's count, one
    query, no patient)."""
    if not holds_role_permission(user, VIEW_PRESCRIPTION):
        return 0
    return _open_customer_orders(user).count()


def orders_mine_for_user(*, ctx: AccessContext) -> list[OrderRow]:
    """My unit's open customer orders ("Öppna kundorder"), soonest promise first: two queries,
    and the patients as labels in a fixed few more (each name shown logged, AUDIT-1)."""
    user = ctx.user
    if not holds_role_permission(user, VIEW_PRESCRIPTION):
        return []
    orders = list(
        _open_customer_orders(user)
        .select_related("unit__unit", "orderer")
        .annotate(
            line_count=Count("lines", filter=~Q(lines__state=LineState.CANCELLED)),
            delivered_lines=Count("lines", filter=Q(lines__state=LineState.DELIVERED)),
        )
        .order_by("promised_on", "pk")[:LIST_LIMIT]
    )
    cards = _cards(ctx, orders)
    return [
        OrderRow(
            order=order,
            card=cards.get(order.patient_id) if order.patient_id else None,
            delivered_lines=order.delivered_lines,
            line_count=order.line_count,
        )
        for order in orders
    ]


@dataclass(frozen=True)
class OrderDetail:
    order: CustomerOrder
    lines: list[CustomerOrderLine]
    history: QuerySet[Any]
    # What the page may say of the patient: the gate's card (a prescriber), the internal
    # reference (logistics, ordinary patient), or nothing.
    card: PatientCard | None
    patient_reference: str
    as_logistics: bool
    may_cancel: bool


def order_get_for_user(*, ctx: AccessContext, number: str) -> OrderDetail:
    """One order for its page; Http404 for a missing order, another unit's, or a user with
    neither role (the same answer)."""
    user = ctx.user
    logistics = holds_role_permission(user, WORK_ORDERS)
    prescriber = holds_role_permission(user, VIEW_PRESCRIPTION)
    orders = CustomerOrder.objects.filter(number=number, kind=OrderKind.CUSTOMER)
    if not logistics:
        if not prescriber:
            raise Http404
        orders = orders.filter(_prescriber_scope(user))
    order = (
        orders.select_related("patient", "unit__unit", "orderer", "pickup_point")
        .annotate(patient_guarded=_guarded())
        .first()
    )
    if order is None:
        raise Http404
    lines = list(order.lines.select_related("article").order_by("position"))
    history = order.transitions.select_related("by").order_by("at", "pk")
    as_logistics = logistics and not prescriber
    card: PatientCard | None = None
    reference = ""
    if as_logistics:
        # Logistics staff: the internal reference of an ordinary patient, nothing of a guarded
        # one (the order number, unit and prescriber are enough to work the order).
        guarded = order.patient_guarded or order.patient_protected
        reference = "" if guarded or order.patient is None else order.patient.reference
    elif order.patient_id:
        card = _cards(ctx, [order]).get(order.patient_id)
    may_cancel = any(
        line.state in ("received", "backordered", "allocated", "picking", "picked", "packed")
        for line in lines
    )
    return OrderDetail(
        order=order,
        lines=lines,
        history=history,
        card=card,
        patient_reference=reference,
        as_logistics=as_logistics,
        may_cancel=may_cancel,
    )


def order_summary_for_prescription(prescription_id: int) -> OrderSummary | None:
    """The order an approved prescription became (one query), for its page: the number, the
    state in words and the delivery promise (the prescriptions floor's registry asks)."""
    order = (
        CustomerOrder.objects.filter(prescription_id=prescription_id)
        .only("number", "state", "promised_on")
        .first()
    )
    if order is None:
        return None
    return OrderSummary(
        number=order.number,
        state=str(order.get_state_display()),
        promised_on=order.promised_on,
        url=reverse("logistics:order", args=[order.number]),
    )
