"""Consumables (Sesam LMN's job): a quantity per period for incontinence, diabetes and nutrition
products, then withdrawals (*uttag*) against it.

- The prescriber writes the consumable prescription from the patient page (gate, logged).
- Customer service cancels a withdrawal (with a reason, kept in its history) as long as nothing
  of its order has been picked: the order not yet approved is cancelled; an approved one's
  supply is stopped by the logistics floor (``prescriptions.registry.order_withdraw``), which
  refuses once a line is on a pick wave. What the withdrawal took returns to the period.
- Customer service takes a withdrawal, on the prescriber's behalf: locked then checked (the
  consumable prescription ``select_for_update``), within what remains of the period and not
  before the product area's time lock has run out since the last withdrawal; each refusal says
  what is possible instead (how much remains, from which day the next withdrawal can be made).
- The withdrawal is ordered as a phone order (``prescription_phone_order_create``): delivery
  computed (PRESC-2), the gate asked for the prescriber, the rules evaluated, and once approved
  released to logistics by its ``OrderRelease`` row. An out-of-region patient without a cleared
  supply registration is refused (REGION-3) instead of leaving an order waiting.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patients.models import AccessAction, AccessOutcome
from patients.services import access_entry_record
from patients.transitions import CREATED, StateMachine, transition_apply, transition_created
from prescriptions.models import (
    Article,
    ConsumablePrescription,
    ConsumableState,
    ConsumableTransition,
    ConsumableWithdrawal,
    PrescriptionState,
    WithdrawalState,
    WithdrawalTransition,
)
from prescriptions.registry import draft_changed, order_withdraw
from prescriptions.services.access import (
    acting_unit_id,
    may_act_on_unit,
    patient_for_prescribing,
    prescriber_profile_for,
)
from prescriptions.services.delivery import delivery_refresh, free_text_check, presc2_enforced
from prescriptions.services.errors import FieldRefused, RuleRefused, StateNotAllowed
from prescriptions.services.lines import consumable_article_check
from prescriptions.services.phone_orders import (
    PHONE_ORDER_PERMISSION,
    PhoneOrderLine,
    prescription_phone_order_create,
)
from prescriptions.services.state import OPEN_STATES, prescription_transition_apply
from protection.gate import AccessContext
from protection.permissions import holds_role_permission
from protection.refusals import not_found, refusals_kept
from protection.services.case_end import case_closed_record

C = ConsumableState
W = WithdrawalState


def _consumable_refused(obj: ConsumablePrescription, from_state: str, to_state: str) -> Exception:
    return StateNotAllowed(
        _("Consumable prescription %(number)s has ended.") % {"number": obj.reference}
    )


CONSUMABLE_MACHINE: Final = StateMachine(
    name="consumable prescription",
    moves={CREATED: frozenset({C.ACTIVE}), C.ACTIVE: frozenset({C.ENDED}), C.ENDED: frozenset()},
    history_model=ConsumableTransition,
    subject_field="consumable",
    refuse=_consumable_refused,
)

WITHDRAWAL_MACHINE: Final = StateMachine(
    name="withdrawal",
    moves={
        CREATED: frozenset({W.ORDERED}),
        W.ORDERED: frozenset({W.CANCELLED}),
        W.CANCELLED: frozenset(),
    },
    history_model=WithdrawalTransition,
    subject_field="withdrawal",
)


def _add_months(start: date, months: int) -> date:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def consumable_period(consumable: ConsumablePrescription, on: date) -> tuple[date, date]:
    """The period ``on`` falls in, first and last day: periods run from ``valid_from`` in steps
    of the prescription's period (a month from the 15th runs to the 14th)."""
    step = consumable.period_months
    months = (on.year - consumable.valid_from.year) * 12 + on.month - consumable.valid_from.month
    index = max(0, months // step)
    start = _add_months(consumable.valid_from, index * step)
    if start > on:
        index -= 1
        start = _add_months(consumable.valid_from, index * step)
    end = _add_months(consumable.valid_from, (index + 1) * step) - timedelta(days=1)
    return start, min(end, consumable.valid_to)


@dataclass(frozen=True)
class ConsumableStatus:
    """What a withdrawal can take today: the period, what remains of it, and the first day the
    next withdrawal is possible (``None`` when it is possible today)."""

    period_start: date
    period_end: date
    withdrawn: int
    remaining: int
    next_possible: date | None
    valid_today: bool


def consumable_status(
    consumable: ConsumablePrescription, today: date | None = None
) -> ConsumableStatus:
    today = today or timezone.localdate()
    on = min(max(today, consumable.valid_from), consumable.valid_to)
    start, end = consumable_period(consumable, on)
    # From the prefetched withdrawals where a list asks for many prescriptions at once.
    ordered = [w for w in consumable.withdrawals.all() if w.state == W.ORDERED]
    withdrawn = sum(w.quantity for w in ordered if w.period_start == start)
    next_possible: date | None = None
    interval = consumable.article.product_area.withdrawal_interval_days
    last = max((w.withdrawn_at for w in ordered), default=None)
    if interval and last is not None:
        earliest = timezone.localdate(last) + timedelta(days=interval)
        if earliest > today:
            next_possible = earliest
    if today < consumable.valid_from:
        next_possible = max(next_possible or consumable.valid_from, consumable.valid_from)
    valid_today = (
        consumable.state == C.ACTIVE and consumable.valid_from <= today <= consumable.valid_to
    )
    return ConsumableStatus(
        period_start=start,
        period_end=end,
        withdrawn=withdrawn,
        remaining=max(0, consumable.quantity_per_period - withdrawn),
        next_possible=next_possible,
        valid_today=valid_today,
    )


@refusals_kept
@transaction.atomic
def consumable_prescription_create(
    *,
    ctx: AccessContext,
    patient_reference: str,
    article_id: int,
    quantity_per_period: int,
    period_months: int,
    valid_from: date,
    valid_to: date,
    need: str,
    unit_id: int | None = None,
) -> ConsumablePrescription:
    """The prescriber writes a consumable prescription for a patient open to them (the gate
    logs the read). The article must be a consumable (a medicine-related product area) the
    prescriber may order (PRESC-5), under an agreement in force (PRESC-8), and no special
    dietary food for a guarded patient (PRESC-3)."""
    profile = prescriber_profile_for(ctx.user)
    unit = acting_unit_id(ctx.user, profile, unit_id)
    patient = patient_for_prescribing(ctx, patient_reference)
    article = (
        Article.objects.select_related("product_area", "agreement").filter(pk=article_id).first()
    )
    if article is None or not article.product_area.medicine_related:
        raise FieldRefused(
            _("Choose an incontinence, diabetes or nutrition article."), field="article"
        )
    consumable_article_check(patient_id=patient.pk, profile=profile, article=article)
    if quantity_per_period < 1:
        raise FieldRefused(_("Quantity per period: give at least 1."), field="quantity_per_period")
    if period_months not in (1, 3, 12):
        raise FieldRefused(_("Period: choose month, quarter or year."), field="period_months")
    if valid_to < valid_from:
        raise FieldRefused(_("Valid to: the last day comes after the first."), field="valid_to")
    if valid_to > _add_months(valid_from, 24):
        raise FieldRefused(_("Valid to: at most two years from the first day."), field="valid_to")
    if not need.strip():
        raise FieldRefused(_("Describe the need the prescription meets."), field="need")
    consumable = ConsumablePrescription.objects.create(
        patient=patient,
        prescriber=ctx.user,
        unit_id=unit,
        article=article,
        quantity_per_period=quantity_per_period,
        period_months=period_months,
        valid_from=valid_from,
        valid_to=valid_to,
        need=free_text_check(_("Need"), need, patient_id=patient.pk),
    )
    transition_created(machine=CONSUMABLE_MACHINE, obj=consumable, by=ctx.user)
    return consumable


@refusals_kept
@transaction.atomic
def consumable_prescription_end(*, ctx: AccessContext, reference: str) -> ConsumablePrescription:
    """The prescriber (or a colleague at the unit) ends a consumable prescription early."""
    consumable = (
        ConsumablePrescription.objects.select_for_update().filter(reference=reference).first()
    )
    if consumable is None or not may_act_on_unit(ctx.user, consumable):
        raise not_found()
    patient_for_prescribing(ctx, consumable.patient.reference)
    transition_apply(machine=CONSUMABLE_MACHINE, obj=consumable, to_state=C.ENDED, by=ctx.user)
    # ACCESS-8: this may have been the unit's last open case for the patient.
    case_closed_record(patient_id=consumable.patient_id, unit_id=consumable.unit_id)
    return consumable


EXPIRY_BATCH: Final = 200


def consumable_prescriptions_expire(*, today: date | None = None) -> int:
    """A consumable prescription whose last valid day has passed ends (beat, daily): its state
    says so, a history row records it with no one as its author, and ACCESS-8 learns that the
    unit may have closed its last case for the patient, as when the prescriber ends it early.

    In batches, each its own transaction; rows are claimed with ``skip_locked`` and moved by
    the conditional UPDATE of the transition, so an overlapping run or a second one ends
    nothing twice. Returns how many ended."""
    today = today or timezone.localdate()
    ended = 0
    while True:
        with transaction.atomic():
            batch = list(
                ConsumablePrescription.objects.select_for_update(skip_locked=True)
                .filter(state=C.ACTIVE, valid_to__lt=today)
                .order_by("valid_to", "pk")[:EXPIRY_BATCH]
            )
            for consumable in batch:
                transition_apply(
                    machine=CONSUMABLE_MACHINE,
                    obj=consumable,
                    to_state=C.ENDED,
                    note=_("The last valid day has passed."),
                )
                case_closed_record(patient_id=consumable.patient_id, unit_id=consumable.unit_id)
        ended += len(batch)
        if len(batch) < EXPIRY_BATCH:
            return ended


def _day(value: date) -> str:
    # The product writes dates as the pages do, year first, in every language.
    return value.isoformat()


@refusals_kept
@transaction.atomic
def consumable_withdrawal_create(
    *, ctx: AccessContext, reference: str, quantity: int
) -> ConsumableWithdrawal:
    """Customer service takes a withdrawal against a consumable prescription: lock, check the
    validity, the time lock and what remains of the period, then order it as a phone order for
    the prescriber (PRESC-2, REGION-3) and record it with its history row."""
    if not holds_role_permission(ctx.user, PHONE_ORDER_PERMISSION):
        raise RuleRefused(_("Only customer service takes withdrawals."), rule="PRESC-2")
    consumable = (
        ConsumablePrescription.objects.select_for_update(of=("self",))
        .select_related("patient", "article__product_area")
        .filter(reference=reference)
        .first()
    )
    if consumable is None:
        raise not_found()
    today = timezone.localdate()
    status = consumable_status(consumable, today)
    if consumable.state != C.ACTIVE:
        raise StateNotAllowed(
            _("Consumable prescription %(number)s has ended.") % {"number": consumable.reference}
        )
    if not status.valid_today:
        raise StateNotAllowed(
            _("Consumable prescription %(number)s is valid from %(start)s to %(end)s.")
            % {
                "number": consumable.reference,
                "start": _day(consumable.valid_from),
                "end": _day(consumable.valid_to),
            }
        )
    if status.next_possible is not None:
        raise FieldRefused(
            _("Too soon after the last withdrawal: the next withdrawal is possible on %(date)s.")
            % {"date": _day(status.next_possible)},
            field="quantity",
        )
    if quantity < 1:
        raise FieldRefused(_("Quantity: give at least 1."), field="quantity")
    if quantity > status.remaining:
        raise FieldRefused(
            _("Quantity: %(remaining)s remain in this period (until %(end)s).")
            % {"remaining": status.remaining, "end": _day(status.period_end)},
            field="quantity",
        )
    order = prescription_phone_order_create(
        ctx=ctx,
        patient_reference=consumable.patient.reference,
        prescriber_id=consumable.prescriber_id,
        unit_id=consumable.unit_id,
        lines=[PhoneOrderLine(article_id=consumable.article_id, quantity=quantity)],
        need=consumable.need,
    )
    if order.state == PrescriptionState.AWAITING_REGISTRATION:
        # Rolled back with the order: nothing waits half-made.
        raise RuleRefused(
            _(
                "The patient lives in another region and has no cleared supply registration: "
                "the prescriber sends one, customer service clears it, then the withdrawal can "
                "be made."
            ),
            rule="REGION-3",
        )
    withdrawal = ConsumableWithdrawal.objects.create(
        consumable=consumable,
        order=order,
        article_id=consumable.article_id,
        quantity=quantity,
        unit_price_sek=consumable.article.price_sek,
        period_start=status.period_start,
        entered_by=ctx.user,
    )
    transition_created(
        machine=WITHDRAWAL_MACHINE, obj=withdrawal, by=ctx.user, note=order.reference
    )
    return withdrawal


@refusals_kept
@transaction.atomic
def consumable_withdrawal_cancel(
    *, ctx: AccessContext, withdrawal_id: int, reason: str
) -> ConsumableWithdrawal:
    """Customer service cancels a withdrawal before its order is picked (the caller changed
    their mind, or it was entered twice). Locks the consumable prescription first, as a new
    withdrawal does, so the two never wait on each other in the opposite order."""
    if not holds_role_permission(ctx.user, PHONE_ORDER_PERMISSION):
        raise RuleRefused(_("Only customer service cancels withdrawals."), rule="PRESC-2")
    consumable_id = (
        ConsumableWithdrawal.objects.filter(pk=withdrawal_id)
        .values_list("consumable_id", flat=True)
        .first()
    )
    if consumable_id is None:
        raise not_found()
    ConsumablePrescription.objects.select_for_update().filter(pk=consumable_id).first()
    withdrawal = (
        ConsumableWithdrawal.objects.select_for_update(of=("self",))
        .select_related("order", "consumable")
        .get(pk=withdrawal_id)
    )
    if withdrawal.state != W.ORDERED:
        raise StateNotAllowed(
            _("Withdrawal of order %(number)s is already cancelled.")
            % {"number": withdrawal.order.reference}
        )
    if not reason.strip():
        raise FieldRefused(_("Reason: say why the withdrawal is cancelled."), field="reason")
    note = free_text_check(_("Reason"), reason, patient_id=withdrawal.consumable.patient_id)
    order = withdrawal.order
    if order.state in OPEN_STATES:
        # Not yet approved: nothing was released to logistics; the order is cancelled here.
        locked = type(order).objects.select_for_update().get(pk=order.pk)
        delivery_refresh(prescription=locked)
        with presc2_enforced(locked):
            prescription_transition_apply(
                prescription=locked, to_state=PrescriptionState.CANCELLED, actor=ctx.user, note=note
            )
        draft_changed(locked.pk)
    elif order.state == PrescriptionState.APPROVED:
        order_withdraw(order.pk, note, ctx.user)
    transition_apply(
        machine=WITHDRAWAL_MACHINE, obj=withdrawal, to_state=W.CANCELLED, by=ctx.user, note=note
    )
    # AUDIT-1: a change to the patient's order, logged as the withdrawal's order was: customer
    # service may hold no grant, and the page's read alone (denied) would not say what was done.
    access_entry_record(
        actor=ctx.actor,
        action=AccessAction.CHANGE,
        outcome=AccessOutcome.ALLOWED,
        patient=withdrawal.consumable.patient,
        object_type="phone_order",
        object_id=order.reference,
    )
    return withdrawal
