"""Submit and routing: a draft is submitted, evaluated against every rule and moved on to what
it waits for (REGION-2, REGION-3, PRESC-6) or approved; a prescription not yet approved can be
cancelled.

Every change of state goes through ``services.state`` and is preceded by a fresh delivery
decision (PRESC-2): the patient may have become protected (or linked to a protected person,
PROT-5) while the prescription waited, and the database trigger checks the delivery on every
change of state.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from prescriptions.models import (
    InvoiceMark,
    OrderRelease,
    Payer,
    PrescriberProfile,
    Prescription,
    PrescriptionState,
)
from prescriptions.registry import draft_changed, order_released_on_commit
from prescriptions.services.access import prescription_for_update
from prescriptions.services.delivery import delivery_refresh, free_text_check, presc2_enforced
from prescriptions.services.eligibility import (
    Evaluation,
    eligibility_evaluate,
    eligibility_record_write,
)
from prescriptions.services.errors import (
    FieldRefused,
    PrescriptionError,
    StateNotAllowed,
    SubmitRefused,
)
from prescriptions.services.state import (
    OPEN_STATES,
    prescription_draft_for_update,
    prescription_transition_apply,
)
from protection.gate import AccessContext
from protection.refusals import refusals_kept

S = PrescriptionState


def prescription_route(
    *, prescription: Prescription, actor: Any | None, note: str = ""
) -> Evaluation:
    """Evaluate a submitted or waiting prescription and move it on: to the next thing it waits
    for, or approved (then marked for invoicing, REGION-1/5). Writes the eligibility record.

    The patient may have become protected (or linked to a protected person) while the
    prescription waited: the delivery is recomputed before anything else, so the state change
    below never meets the PRESC-2 trigger with a stale address."""
    delivery_refresh(prescription=prescription)
    profile = PrescriberProfile.objects.filter(user_id=prescription.prescriber_id).first()
    evaluation = eligibility_evaluate(prescription=prescription, prescriber_profile=profile)
    if evaluation.blocking:
        raise SubmitRefused(evaluation.blocking)
    eligibility_record_write(prescription=prescription, evaluation=evaluation)
    if evaluation.next_state != prescription.state:
        with presc2_enforced(prescription):
            prescription_transition_apply(
                prescription=prescription, to_state=evaluation.next_state, actor=actor, note=note
            )
    if prescription.state == S.APPROVED:
        _invoice_mark(prescription, evaluation)
        # The event that the logistics floor turns into a customer order (house style 1).
        OrderRelease.objects.get_or_create(prescription=prescription)
        order_released_on_commit(prescription.pk)
    draft_changed(prescription.pk)
    return evaluation


def _invoice_mark(prescription: Prescription, evaluation: Evaluation) -> None:
    if evaluation.invoice_region_id is not None:
        InvoiceMark.objects.create(
            prescription=prescription,
            payer=Payer.HOME_REGION,
            region_id=evaluation.invoice_region_id,
            amount_sek=evaluation.total_cost_sek,
            rule="REGION-1",
            deactivate_after_invoicing=evaluation.deactivate_after_invoicing,
        )
    elif evaluation.patient_pays_unit:
        InvoiceMark.objects.create(
            prescription=prescription,
            payer=Payer.PATIENT_AT_UNIT,
            payee_unit_id=prescription.unit_id,
            amount_sek=evaluation.total_cost_sek,
            rule="REGION-5",
            deactivate_after_invoicing=False,
        )


@refusals_kept
@transaction.atomic
def prescription_submit(*, ctx: AccessContext, reference: str) -> Prescription:
    """Submit a draft: the need must be described (``FieldRefused`` on ``need``), then re-read
    the patient's protection (delivery recomputed, PRESC-2), evaluate every rule, store the
    eligibility record and route it. SubmitRefused lists what to fix."""
    prescription = prescription_draft_for_update(ctx=ctx, reference=reference)
    return prescription_submit_locked(prescription=prescription, actor=ctx.user)


def prescription_submit_locked(*, prescription: Prescription, actor: Any) -> Prescription:
    """Submit a draft the caller has locked and checked (the prescriber's page, a phone order),
    in the caller's transaction. Every channel states the need the prescription meets: the
    prescriber has assessed it, and on a phone order says it to customer service."""
    if not prescription.need.strip():
        # Before anything moves: the draft stays a draft, with nothing evaluated or recorded.
        raise FieldRefused(_("Describe the need the prescription meets."), field="need")
    delivery_refresh(prescription=prescription)
    with presc2_enforced(prescription):
        # A refusal in prescription_route rolls the submitted transition back with the rest.
        prescription_transition_apply(prescription=prescription, to_state=S.SUBMITTED, actor=actor)
    prescription_route(prescription=prescription, actor=actor)
    return prescription


@refusals_kept
@transaction.atomic
def prescription_cancel(*, ctx: AccessContext, reference: str, reason: str) -> Prescription:
    """Cancel a prescription that is not yet approved, with the reason, which its history
    keeps."""
    prescription = prescription_for_update(ctx, reference)
    if prescription.state not in OPEN_STATES:
        raise StateNotAllowed(
            _("Prescription %(number)s can no longer be cancelled.")
            % {"number": prescription.reference}
        )
    if not reason.strip():
        raise PrescriptionError(_("Write why the prescription is cancelled."))
    note = free_text_check(_("Reason"), reason, patient_id=prescription.patient_id)
    # The trigger checks delivery on every change of state: bring it up to date first (the
    # patient may have become protected, or the special agreement ended, since it was set).
    delivery_refresh(prescription=prescription)
    with presc2_enforced(prescription):
        prescription_transition_apply(
            prescription=prescription, to_state=S.CANCELLED, actor=ctx.user, note=note
        )
    draft_changed(prescription.pk)
    return prescription
