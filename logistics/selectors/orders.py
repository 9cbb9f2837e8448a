"""Reads of customer orders for the pages: the prescriber's open orders (their unit's) and one
order with its lines and history.

Who sees what of the patient: a prescriber sees name and personnummer only where the database
shows them the identity (``hjm_identity_visible``) and nothing guards the patient (a protected
patient's name needs the gate's step-up, which a list does not take), else "Protected identity"
and the birth year; each identity shown is logged (AUDIT-1). Logistics staff (``work_orders``)
see any order but the patient only as the internal reference, and for a guarded patient not
even that: the order number, unit and prescriber.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Count, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.urls import reverse

from logistics.models import CustomerOrder, CustomerOrderLine, LineState, OrderKind, OrderState
from patients.models import AccessAction, AccessEntry, AccessOutcome, PatientIdentity
from patients.presenters import full_card
from prescriptions.models import PrescriberProfile
from prescriptions.registry import OrderSummary
from protection.gate import AccessContext
from protection.permissions import holds_role_permission

VIEW_PRESCRIPTION = "prescriptions.view_prescription"
WORK_ORDERS = "logistics.work_orders"
LIST_LIMIT = 200


def _visible() -> RawSQL:
    return RawSQL(
        "hjm_identity_visible(logistics_customerorder.patient_id)",
        [],
        output_field=models.BooleanField(),
    )


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
    name: str
    identity_number: str
    birth_year: int | None
    masked: bool
    delivered_lines: int
    line_count: int


def _log_reads(ctx: AccessContext, orders: list[CustomerOrder]) -> None:
    AccessEntry.objects.bulk_create(
        [
            AccessEntry(
                user_id=ctx.actor.user_id,
                unit_id=ctx.actor.unit_id,
                action=AccessAction.READ,
                outcome=AccessOutcome.ALLOWED,
                patient_id=order.patient_id,
                patient_protected=False,
                object_type="customer order",
                object_id=order.number,
                ip_address=ctx.actor.ip_address,
                session_ref=ctx.actor.session_ref,
            )
            for order in orders
        ]
    )


def _identity(order: CustomerOrder) -> PatientIdentity | None:
    try:
        return order.patient.identity if order.patient is not None else None
    except PatientIdentity.DoesNotExist:
        return None


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
    """My unit's open customer orders ("Öppna kundorder"), soonest promise first: two queries
    and one for the access log."""
    user = ctx.user
    if not holds_role_permission(user, VIEW_PRESCRIPTION):
        return []
    orders = list(
        _open_customer_orders(user)
        .select_related("patient", "patient__identity", "unit__unit", "orderer")
        .annotate(
            patient_visible=_visible(),
            patient_guarded=_guarded(),
            line_count=Count("lines", filter=~Q(lines__state=LineState.CANCELLED)),
            delivered_lines=Count("lines", filter=Q(lines__state=LineState.DELIVERED)),
        )
        .order_by("promised_on", "pk")[:LIST_LIMIT]
    )
    rows: list[OrderRow] = []
    shown: list[CustomerOrder] = []
    for order in orders:
        identity = _identity(order)
        open_identity = (
            identity is not None
            and order.patient_visible
            and not order.patient_guarded
            and not order.patient_protected
        )
        card = (
            full_card(order.patient, identity, own_county_code="")
            if open_identity and identity is not None and order.patient is not None
            else None
        )
        if card is not None:
            shown.append(order)
        rows.append(
            OrderRow(
                order=order,
                name=card.name if card else "",
                identity_number=card.identity_number if card else "",
                birth_year=order.patient.birth_year if order.patient else None,
                masked=card is None,
                delivered_lines=order.delivered_lines,
                line_count=order.line_count,
            )
        )
    if shown:
        _log_reads(ctx, shown)
    return rows


@dataclass(frozen=True)
class OrderDetail:
    order: CustomerOrder
    lines: list[CustomerOrderLine]
    history: QuerySet[Any]
    # What the page may say of the patient: a name (prescriber, open identity), the internal
    # reference (logistics, ordinary patient), or nothing.
    patient_name: str
    patient_number: str
    patient_reference: str
    birth_year: int | None
    masked: bool
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
        orders.select_related(
            "patient", "patient__identity", "unit__unit", "orderer", "pickup_point"
        )
        .annotate(patient_visible=_visible(), patient_guarded=_guarded())
        .first()
    )
    if order is None:
        raise Http404
    lines = list(order.lines.select_related("article").order_by("position"))
    history = order.transitions.select_related("by").order_by("at", "pk")
    guarded = order.patient_guarded or order.patient_protected
    name = number_shown = reference = ""
    masked = True
    if logistics and not prescriber:
        reference = "" if guarded or order.patient is None else order.patient.reference
    else:
        identity = _identity(order)
        if identity is not None and order.patient_visible and not guarded:
            assert order.patient is not None
            card = full_card(order.patient, identity, own_county_code="")
            name, number_shown, masked = card.name, card.identity_number, False
            _log_reads(ctx, [order])
    may_cancel = any(
        line.state in ("received", "backordered", "allocated", "picking", "picked", "packed")
        for line in lines
    )
    return OrderDetail(
        order=order,
        lines=lines,
        history=history,
        patient_name=name,
        patient_number=number_shown,
        patient_reference=reference,
        birth_year=None
        if (logistics and not prescriber) or order.patient is None
        else order.patient.birth_year,
        masked=masked,
        as_logistics=logistics and not prescriber,
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
