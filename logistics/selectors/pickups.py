"""Reads of pickups (PRESC-9), loss cases (DEVICE-4, KPI-3) and reconditioning (DEVICE-3).

Logistics staff hold no grants: a pickup names the patient nowhere. For a protected patient the
page says so, on screen only, with the unit where the pickup is made and the prescriber to
contact, never an address (LEAK-5, LOG-4). For an ordinary patient the pickup address is the
registered address, read as the user when the page is shown and logged as a read of patient
data (AUDIT-1), as the delivery pages log theirs.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from logistics.models import (
    LossCase,
    LossCaseTransition,
    LossState,
    PickupLine,
    PickupLineState,
    PickupOrder,
    PickupOrderTransition,
    PickupState,
)
from patients.models import AccessAction, AccessEntry, AccessOutcome, PatientIdentity
from protection.documents.letters import address_lines
from protection.gate import AccessContext


class PickupQueue(enum.Enum):
    """The staff's tabs: no route yet, planned on a route, and past the 7 working days."""

    TO_PLAN = "to-plan"
    ON_ROUTE = "on-route"
    OVERDUE = "overdue"


def _queue_condition(queue: PickupQueue, day: datetime.date) -> Q:
    if queue is PickupQueue.TO_PLAN:
        return Q(area__isnull=True)
    if queue is PickupQueue.ON_ROUTE:
        return Q(area__isnull=False, due_on__gte=day)
    return Q(due_on__lt=day)


def pickup_queue_counts(*, day: datetime.date) -> dict[PickupQueue, int]:
    """The three queues' counts in one query."""
    counts = PickupOrder.objects.filter(state=PickupState.PLANNED).aggregate(
        **{queue.name: Count("pk", filter=_queue_condition(queue, day)) for queue in PickupQueue}
    )
    return {queue: int(counts[queue.name] or 0) for queue in PickupQueue}


def pickup_queue(*, queue: PickupQueue, day: datetime.date) -> list[PickupOrder]:
    """The open pickup orders of a queue, the earliest due first, with their route, unit and
    line count: one query. No patient is read."""
    return list(
        PickupOrder.objects.filter(_queue_condition(queue, day), state=PickupState.PLANNED)
        .select_related("area", "unit__unit")
        .annotate(line_count=Count("lines"))
        .order_by("due_on", "pk")[:200]
    )


@dataclass(frozen=True)
class PickupPlace:
    protected: bool
    # The unit where a protected patient's pickup is made, or the address lines.
    lines: list[str]
    contact: str


@dataclass(frozen=True)
class PickupPage:
    order: PickupOrder
    lines: list[PickupLine]
    place: PickupPlace
    history: list[PickupOrderTransition]


def _person(user: object) -> str:
    full = getattr(user, "get_full_name", lambda: "")()
    return str(full or getattr(user, "get_username", lambda: "")())


def _place(ctx: AccessContext, order: PickupOrder) -> PickupPlace:
    contact = _person(order.contact)
    if order.patient_protected:
        unit = order.unit
        return PickupPlace(
            protected=True,
            lines=[
                unit.unit.name,
                unit.delivery_street,
                f"{unit.delivery_postal_code} {unit.delivery_town}".strip(),
            ],
            contact=contact,
        )
    # Read as the user: row-level security hides a guarded patient's identity (none here).
    identity = (
        PatientIdentity.objects.filter(patient_id=order.patient_id)
        .only("patient_id", "registered_address")
        .first()
    )
    address = identity.registered_address if identity is not None else None
    if not isinstance(address, dict):
        return PickupPlace(protected=False, lines=[], contact=contact)
    AccessEntry.objects.create(
        user_id=ctx.actor.user_id,
        unit_id=ctx.actor.unit_id,
        action=AccessAction.READ,
        outcome=AccessOutcome.ALLOWED,
        patient_id=order.patient_id,
        patient_protected=False,
        object_type="delivery address",
        object_id=order.number,
        ip_address=ctx.actor.ip_address,
        session_ref=ctx.actor.session_ref,
    )
    return PickupPlace(protected=False, lines=address_lines(address), contact=contact)


def pickup_get_for_user(*, ctx: AccessContext, pickup_id: int) -> PickupPage:
    """One pickup order for the staff's page. Raises ``PickupOrder.DoesNotExist``."""
    order = PickupOrder.objects.select_related("area", "unit__unit", "contact", "created_by").get(
        pk=pickup_id
    )
    lines = list(
        PickupLine.objects.filter(order_id=order.pk)
        .select_related("device__article")
        .order_by("pk")
    )
    history = list(
        PickupOrderTransition.objects.filter(order_id=order.pk)
        .select_related("by")
        .order_by("at", "pk")
    )
    return PickupPage(order=order, lines=lines, place=_place(ctx, order), history=history)


def pickup_lines_open_for_patient(patient_id: int) -> dict[int, PickupLine]:
    """Each of the patient's devices waiting to be collected, with its pickup order: one
    query (the patient page's section)."""
    return {
        line.device_id: line
        for line in PickupLine.objects.filter(
            order__patient_id=patient_id, state=PickupLineState.TO_COLLECT
        ).select_related("order")
    }


def loss_cases_list(*, state: str = "") -> QuerySet[LossCase]:
    """The loss cases, the newest first, with device, article and unit: one query."""
    rows = LossCase.objects.select_related("device__article", "unit__unit")
    if state:
        rows = rows.filter(state=state)
    return rows.order_by("-reported_on", "-pk")


@dataclass(frozen=True)
class LossPage:
    case: LossCase
    history: list[LossCaseTransition]


def loss_case_get(*, case_id: int) -> LossPage:
    """One loss case. Raises ``LossCase.DoesNotExist``."""
    case = LossCase.objects.select_related(
        "device__article", "unit__unit", "pickup_line__order"
    ).get(pk=case_id)
    history = list(
        LossCaseTransition.objects.filter(case_id=case.pk).select_related("by").order_by("at", "pk")
    )
    return LossPage(case=case, history=history)


@dataclass(frozen=True)
class LossesPerUnit:
    unit_name: str
    count: int
    debited_count: int
    value_sek: Decimal


def losses_per_unit(*, since: datetime.date, until: datetime.date) -> list[LossesPerUnit]:
    """KPI-3: devices reported lost per care unit in a period, how many were debited and the
    debited value (found-again devices not counted): one query."""
    rows = (
        LossCase.objects.filter(reported_on__gte=since, reported_on__lte=until)
        .exclude(state=LossState.FOUND)
        .values("unit__unit__name")
        .annotate(
            count=Count("pk"),
            debited=Count("pk", filter=Q(state=LossState.DEBITED)),
            value=Sum("debit_sek", filter=Q(state=LossState.DEBITED)),
        )
        .order_by("unit__unit__name")
    )
    return [
        LossesPerUnit(
            unit_name=str(row["unit__unit__name"]),
            count=int(row["count"]),
            debited_count=int(row["debited"]),
            value_sek=row["value"] or Decimal("0.00"),
        )
        for row in rows
    ]
