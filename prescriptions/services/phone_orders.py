"""Customer service enters an order a prescriber phones in (PRESC-2: delivery computed, never
typed), and submits it for the prescriber."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patients.models import AccessAction, AccessOutcome, Patient
from patients.services import access_entry_record
from prescriptions.models import Article, ArticleKind, Prescription, PrescriptionLine, Urgency
from prescriptions.services.access import acting_unit_id, prescriber_profile_for
from prescriptions.services.delivery import free_text_check
from prescriptions.services.drafts import prescription_draft_create, urgency_checked
from prescriptions.services.errors import PrescriptionError, RuleRefused
from prescriptions.services.lines import prescription_article_check
from prescriptions.services.ordering_right import ordering_right
from prescriptions.services.routing import prescription_submit_locked
from protection.gate import AccessContext, Decision, decide_for_guards
from protection.permissions import holds_role_permission
from protection.refusals import Denial, not_found, refusals_kept
from protection.rls import patient_guard_ids

PHONE_ORDER_PERMISSION = "prescriptions.add_phone_order"


@dataclass(frozen=True)
class PhoneOrderLine:
    article_id: int
    quantity: int = 1
    supply: str | None = None


@refusals_kept
@transaction.atomic
def prescription_phone_order_create(
    *,
    ctx: AccessContext,
    patient_reference: str,
    prescriber_id: int,
    unit_id: int,
    lines: list[PhoneOrderLine],
    need: str,
    urgency: str = Urgency.NORMAL,
) -> Prescription:
    """Customer service enters an order a prescriber phones in, and submits it. The same rules
    hold as in the prescriber's pages: the prescriber states the need on the phone (submit
    refuses an empty one), delivery is computed (PRESC-2), never typed, and a
    guarded patient's order (protected, or linked to a protected person, PROT-5) is possible
    only for a prescriber the gate would open the patient to.

    A refusal is audited (AUDIT-1): the refusal carries the denied access entry, and
    ``refusals_kept`` writes it once the order's transaction has rolled back."""
    if not holds_role_permission(ctx.user, PHONE_ORDER_PERMISSION):
        raise PrescriptionError(_("Only customer service can enter phone orders."))
    prescriber = get_user_model().objects.filter(pk=prescriber_id, is_active=True).first()
    patient = Patient.objects.select_for_update().filter(reference=patient_reference).first()
    if prescriber is None or patient is None:
        raise not_found()
    # The gate's decision for the prescriber, on the guards read whoever asks: customer
    # service cannot read a relative's register links, the database can (PROT-5). Step-up is
    # the prescriber's own affair on the phone; a grant for every guard is what counts.
    prescriber_ctx = AccessContext(user=prescriber, actor=ctx.actor, session=None)
    if decide_for_guards(prescriber_ctx, patient_guard_ids(patient.pk)) is Decision.MASKED:
        # The same answer as for no patient at all: customer service learns nothing.
        refusal = not_found()
        refusal.denials.append(
            Denial(
                actor=ctx.actor,
                action=AccessAction.CHANGE,
                patient=patient,
                object_type="phone_order",
                object_id="",
            )
        )
        raise refusal
    access_entry_record(
        actor=ctx.actor,
        action=AccessAction.CHANGE,
        outcome=AccessOutcome.ALLOWED,
        patient=patient,
        object_type="phone_order",
    )
    profile = prescriber_profile_for(prescriber)
    unit = acting_unit_id(prescriber, profile, unit_id)
    ordering_right(profile).check()
    if not lines:
        raise PrescriptionError(_("Add at least one article."))
    prescription = prescription_draft_create(
        patient=patient, prescriber=prescriber, unit_id=unit, entered_by=ctx.user
    )
    prescription.need = free_text_check(_("Need"), need, patient_id=patient.pk)
    prescription.urgency = urgency_checked(urgency)
    prescription.save(update_fields=["need", "urgency"])
    for position, order_line in enumerate(lines, start=1):
        article = (
            Article.objects.select_related("product_area", "agreement")
            .filter(pk=order_line.article_id)
            .first()
        )
        if article is None or article.kind == ArticleKind.ACCESSORY:
            raise PrescriptionError(_("Phone orders take main articles; no such article."))
        if article.out_of_stock or not article.in_assortment_on(timezone.localdate()):
            raise RuleRefused(
                _("%(article)s is not available: the prescriber chooses the replacement.")
                % {"article": article.article_number},
                rule="PRESC-8",
            )
        prescription_article_check(prescription=prescription, profile=profile, article=article)
        PrescriptionLine.objects.create(
            prescription=prescription,
            position=position,
            article=article,
            quantity=max(1, order_line.quantity),
            supply=order_line.supply or article.supply,
            unit_price_sek=article.price_sek,
        )
    return prescription_submit_locked(prescription=prescription, actor=ctx.user)
