"""Reads of consumable prescriptions (issue 14) for a user: the patient through the gate first."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Prefetch,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Now
from django.utils import timezone

from patients.presenters import PatientCard
from prescriptions.models import (
    ConsumablePrescription,
    ConsumableState,
    ConsumableWithdrawal,
    Prescription,
    WithdrawalState,
)
from prescriptions.services.access import may_act_on_unit
from prescriptions.services.consumables import ConsumableStatus, consumable_status
from prescriptions.services.phone_orders import PHONE_ORDER_PERMISSION
from protection.gate import AccessContext, Decision, patient_get_for_user
from protection.permissions import holds_role_permission
from protection.refusals import not_found, patient_answer


def _consumables() -> QuerySet[ConsumablePrescription]:
    return ConsumablePrescription.objects.select_related(
        "article__product_area", "unit__unit", "prescriber"
    ).prefetch_related(
        Prefetch(
            "withdrawals",
            queryset=ConsumableWithdrawal.objects.select_related(
                "order__delivery_unit__unit", "order__delivery_contact"
            ),
        )
    )


@dataclass(frozen=True)
class ConsumableRow:
    consumable: ConsumablePrescription
    status: ConsumableStatus


def consumable_prescriptions_of_patient(patient_id: int) -> QuerySet[ConsumablePrescription]:
    """The patient's consumable prescriptions: the rows :func:`consumables_for_patient` lists
    (the same filter), whose existence the patient page asks before it reads them."""
    return ConsumablePrescription.objects.filter(patient_id=patient_id)


def consumables_for_patient(patient_id: int) -> list[ConsumableRow]:
    """The patient's consumable prescriptions with what remains and when the next withdrawal is
    possible, for a patient the gate has already shown the caller. Two queries."""
    return [
        ConsumableRow(consumable=c, status=consumable_status(c))
        for c in _consumables().filter(patient_id=patient_id)
    ]


def may_take_withdrawals(user: Any) -> bool:
    return holds_role_permission(user, PHONE_ORDER_PERMISSION)


@dataclass(frozen=True)
class ConsumablePage:
    card: PatientCard
    consumable: ConsumablePrescription
    status: ConsumableStatus
    withdrawals: list[ConsumableWithdrawal]
    may_withdraw: bool


def consumable_get_for_user(*, ctx: AccessContext, reference: str) -> ConsumablePage:
    """One consumable prescription with its withdrawals: for customer service and the
    prescribers of its unit. A prescriber sees it only when the gate shows them the patient.
    Customer service, whom a caller gives the prescription's number (LEAK-5: staff work by the
    case number), sees a patient the gate masks from them as the masked card only: "protected
    personal data", the article, what remains and the next possible day, and the delivery to
    the prescriber's unit (PRESC-2); never a name, number, address or birth year. Either way
    the gate logs the read (a masked one as denied). Missing or another unit's: the one
    not-found answer."""
    consumable = _consumables().select_related("patient").filter(reference=reference).first()
    withdraws = may_take_withdrawals(ctx.user)
    if consumable is None or not (withdraws or may_act_on_unit(ctx.user, consumable)):
        raise not_found()
    if withdraws:
        answer = patient_get_for_user(ctx, consumable.patient.reference)
        if answer.decision is Decision.STEP_UP:
            answer = patient_answer(ctx, consumable.patient.reference)  # asks for the password
    else:
        answer = patient_answer(ctx, consumable.patient.reference)
    # The masked card carries the birth year for staff who search; a caller by number learns
    # nothing of the person, not even that.
    card = replace(answer.card, birth_year=None) if answer.card.masked else answer.card
    return ConsumablePage(
        card=card,
        consumable=consumable,
        status=consumable_status(consumable),
        withdrawals=list(consumable.withdrawals.all()),
        may_withdraw=withdraws,
    )


def _open_for_withdrawal(today: date) -> QuerySet[ConsumablePrescription]:
    """Active consumable prescriptions in force today whose time lock has run out (or that
    have no withdrawal yet): the calls customer service can expect. In one statement."""
    last = Max("withdrawals__withdrawn_at", filter=Q(withdrawals__state=WithdrawalState.ORDERED))
    interval = ExpressionWrapper(
        F("article__product_area__withdrawal_interval_days")
        * Value(timedelta(days=1), output_field=DurationField()),
        output_field=DurationField(),
    )
    return (
        ConsumablePrescription.objects.filter(
            state=ConsumableState.ACTIVE, valid_from__lte=today, valid_to__gte=today
        )
        .annotate(last=last)
        .filter(Q(last__isnull=True) | Q(last__lte=Now() - interval))
    )


@dataclass(frozen=True)
class PhoneDeskCounts:
    due: int
    withdrawals_today: int
    phone_orders_today: int


def phone_desk_counts(today: date | None = None) -> PhoneDeskCounts:
    """Counts only, for the start page and the desk: no patient is named (ACCESS-1)."""
    today = today or timezone.localdate()
    start = timezone.make_aware(datetime.combine(today, time.min))
    orders = Prescription.objects.filter(phone_order=True, created_at__gte=start).aggregate(
        orders=Count("pk"),
        withdrawals=Count("pk", filter=Q(consumable_withdrawal__isnull=False)),
    )
    return PhoneDeskCounts(
        due=_open_for_withdrawal(today).count(),
        withdrawals_today=orders["withdrawals"],
        phone_orders_today=orders["orders"] - orders["withdrawals"],
    )


def phone_orders_today(today: date | None = None) -> list[Prescription]:
    """Today's phone orders and withdrawals, newest first: the order's number, prescriber,
    unit, state and delivery; never the patient (customer service may hold no grant)."""
    today = today or timezone.localdate()
    start = timezone.make_aware(datetime.combine(today, time.min))
    return list(
        Prescription.objects.filter(phone_order=True, created_at__gte=start)
        .select_related(
            "prescriber", "unit__unit", "delivery_unit__unit", "consumable_withdrawal__consumable"
        )
        .order_by("-created_at", "-pk")[:200]
    )
