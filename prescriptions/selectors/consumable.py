"""Reads of consumable prescriptions (issue 14) for a user: the patient through the gate first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet

from patients.presenters import PatientCard
from prescriptions.models import ConsumablePrescription, ConsumableWithdrawal
from prescriptions.services.access import may_act_on_unit
from prescriptions.services.consumables import ConsumableStatus, consumable_status
from prescriptions.services.phone_orders import PHONE_ORDER_PERMISSION
from protection.gate import AccessContext
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
    prescribers of its unit, and only when the gate shows them the patient (the read is
    logged). Missing, another unit's or masked: the one not-found answer."""
    consumable = _consumables().select_related("patient").filter(reference=reference).first()
    withdraws = may_take_withdrawals(ctx.user)
    if consumable is None or not (withdraws or may_act_on_unit(ctx.user, consumable)):
        raise not_found()
    answer = patient_answer(ctx, consumable.patient.reference)
    return ConsumablePage(
        card=answer.card,
        consumable=consumable,
        status=consumable_status(consumable),
        withdrawals=list(consumable.withdrawals.all()),
        may_withdraw=withdraws,
    )
