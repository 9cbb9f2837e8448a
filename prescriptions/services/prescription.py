"""Writes on prescriptions: the draft, its lines, submit and routing, signing, fitting.

Every service is keyword-only and atomic; it locks the prescription, then checks, then writes
(house style 3). State changes go through ``services.state`` only. Delivery is computed here,
never typed (PRESC-2); a stale protection snapshot is refused by the database as well.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from patients.identity import contains_identity_number, identity_words, mentions_any
from patients.models import AccessAction, AccessOutcome, Patient, PatientIdentity
from patients.services import access_entry_record
from prescriptions.models import (
    Article,
    ArticleKind,
    CareEpisode,
    DeliveryKind,
    InvoiceMark,
    Payer,
    PrescriberProfile,
    Prescription,
    PrescriptionLine,
    PrescriptionState,
    ReplacementDecision,
    ReplacementKind,
    ReplacementOutcome,
    SpecialDeliveryAgreement,
    Supply,
    Urgency,
)
from prescriptions.selectors.catalogue import article_orderable, replacement_for
from prescriptions.services.access import (
    acting_unit_id,
    patient_for_prescribing,
    patient_guarded,
    prescriber_profile_for,
    prescription_for_update,
)
from prescriptions.services.eligibility import (
    DIETARY_FOOD_AREA,
    Evaluation,
    eligibility_evaluate,
    eligibility_record_write,
)
from prescriptions.services.errors import (
    PrescriptionError,
    RuleRefused,
    StateNotAllowed,
    SubmitRefused,
)
from prescriptions.services.state import OPEN_STATES, prescription_transition_apply
from protection.gate import AccessContext, Decision, decide_for_guards
from protection.permissions import holds_role_permission
from protection.refusals import PatientNotFound as PrescriptionNotFound
from protection.refusals import StepUpRequired, refusals_kept
from protection.rls import patient_guard_ids

S = PrescriptionState


# --- PRESC-2 refusals by the database (M1) ------------------------------------------------

_DB_RULES = (("presc2_", "PRESC-2"), ("PRESC-2", "PRESC-2"), ("presc4_", "PRESC-4"))


@contextmanager
def presc2_enforced(prescription: Prescription) -> Iterator[None]:
    """Turn the database's PRESC-2/PRESC-4 refusal (CHECK constraint or trigger) into a domain
    error carrying the prescription number only. The driver's error holds the whole row in
    its DETAIL, free text included (need, fitting note): it must reach neither the user nor a
    log (LEAK-1), so it is dropped here, not chained."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as error:
        text = str(error)
        rule = next((rule for marker, rule in _DB_RULES if marker in text), None)
        if rule is None:
            raise
        raise RuleRefused(
            _(
                "Prescription %(number)s: the delivery must go to the prescriber's unit for a "
                "patient with protected identity. Open the prescription again and retry."
            )
            % {"number": prescription.reference},
            rule=rule,
        ) from None


# --- episode and draft -----------------------------------------------------------------------


def care_episode_open(*, patient: Patient, unit_id: int) -> CareEpisode:
    """The patient's open episode at the unit, or a new one. REGION-1: the home region is the
    register's when the episode starts, and stays with the episode."""
    episode = (
        CareEpisode.objects.select_for_update()
        .filter(patient=patient, unit_id=unit_id, closed_at__isnull=True)
        .first()
    )
    if episode is None:
        episode = CareEpisode.objects.create(
            patient=patient, unit_id=unit_id, home_region_id=patient.home_region_id
        )
    return episode


DELIVERY_FIELDS: tuple[str, ...] = (
    "patient_protected",
    "delivery_kind",
    "delivery_unit",
    "delivery_contact",
    "special_agreement",
)


def _agreement_in_force(prescription: Prescription) -> bool:
    """L6: the special agreement is the patient's own and has not ended."""
    if prescription.special_agreement_id is None:
        return False
    return SpecialDeliveryAgreement.objects.filter(
        pk=prescription.special_agreement_id,
        patient_id=prescription.patient_id,
        ended_at__isnull=True,
    ).exists()


def _delivery_for(prescription: Prescription, patient: Patient) -> None:
    """PRESC-2: a guarded patient's order (protected, or linked by the register to a protected
    person, PROT-5: the gate's guard) goes to the prescriber's unit with the prescriber as
    contact, unless a recorded special agreement in force applies (L6); nothing is typed. The
    snapshot ``patient_protected`` is the guard as it is now."""
    guarded = patient_guarded(patient.pk)
    prescription.patient_protected = guarded
    if prescription.delivery_kind == DeliveryKind.SPECIAL_AGREEMENT and not (
        _agreement_in_force(prescription)
    ):
        # Ended since it was chosen: the unit is the delivery that never reveals an address.
        prescription.delivery_kind = DeliveryKind.UNIT
    if guarded and prescription.delivery_kind != DeliveryKind.SPECIAL_AGREEMENT:
        prescription.delivery_kind = DeliveryKind.UNIT
    if prescription.delivery_kind == DeliveryKind.UNIT:
        prescription.delivery_unit_id = prescription.unit_id
        prescription.delivery_contact_id = prescription.prescriber_id
    else:
        prescription.delivery_unit_id = None
        prescription.delivery_contact_id = None
    if prescription.delivery_kind != DeliveryKind.SPECIAL_AGREEMENT:
        prescription.special_agreement = None


def _draft_create(
    *, patient: Patient, prescriber: Any, unit_id: int, entered_by: Any | None = None
) -> Prescription:
    episode = care_episode_open(patient=patient, unit_id=unit_id)
    prescription = Prescription(
        patient=patient,
        episode=episode,
        prescriber=prescriber,
        unit_id=unit_id,
        delivery_kind=DeliveryKind.PATIENT_ADDRESS,  # _delivery_for decides (PRESC-2)
        entered_by=entered_by,
        phone_order=entered_by is not None,
    )
    _delivery_for(prescription, patient)
    with presc2_enforced(prescription):
        prescription.save()
    prescription_transition_apply_initial(prescription, entered_by or prescriber)
    return prescription


def prescription_transition_apply_initial(prescription: Prescription, actor: Any) -> None:
    """The draft's first history row (from nothing to draft)."""
    prescription.transitions.create(from_state="", to_state=S.DRAFT, actor=actor)


@refusals_kept
@transaction.atomic
def prescription_draft_start(
    *, ctx: AccessContext, patient_reference: str, unit_id: int | None = None
) -> Prescription:
    """Start a draft for a patient at one of the prescriber's units (opening the care episode if
    needed, REGION-1). Raises PrescriptionNotFound for a patient the user may not see."""
    profile = prescriber_profile_for(ctx.user)
    if not profile.prescribes_personal_devices:
        raise RuleRefused(
            _("An orderer for a unit cannot prescribe personal devices."), rule="PRESC-5"
        )
    unit = acting_unit_id(ctx.user, profile, unit_id)
    patient = patient_for_prescribing(ctx, patient_reference)
    return _draft_create(patient=patient, prescriber=ctx.user, unit_id=unit)


# --- lines -----------------------------------------------------------------------------------


def _draft_for_update(ctx: AccessContext, reference: str) -> Prescription:
    prescription = prescription_for_update(ctx, reference)
    if prescription.state != S.DRAFT:
        raise StateNotAllowed(
            _("Prescription %(number)s is no longer a draft.") % {"number": prescription.reference}
        )
    return prescription


def _check_article(
    prescription: Prescription, profile: PrescriberProfile, article: Article
) -> None:
    # PRESC-3 asks the guard as it is now, not the draft's snapshot.
    if article.product_area_id == DIETARY_FOOD_AREA and patient_guarded(prescription.patient_id):
        raise RuleRefused(
            _(
                "Special dietary food cannot be prescribed here for a patient with protected "
                "identity: it is prescribed through a pharmacy."
            ),
            rule="PRESC-3",
        )
    if not profile.prescribes_personal_devices:
        raise RuleRefused(
            _("An orderer for a unit cannot prescribe personal devices."), rule="PRESC-5"
        )
    area = article.product_area
    if not profile.competences.filter(competence_area_id=area.competence_area_id).exists():
        raise RuleRefused(
            _("You have no registered training for %(area)s.") % {"area": area.name},
            rule="PRESC-5",
        )
    if not article.agreement.in_force_on(timezone.localdate()):
        raise RuleRefused(
            _("%(article)s cannot be ordered: its agreement is not in force.")
            % {"article": article.article_number},
            rule="PRESC-8",
        )


@refusals_kept
@transaction.atomic
def prescription_line_add(
    *,
    ctx: AccessContext,
    reference: str,
    article_id: int,
    quantity: int = 1,
    supply: str | None = None,
    main_line_id: int | None = None,
    special_adaptation: bool = False,
) -> PrescriptionLine:
    """Add an article (an accessory under the line of its main article). PRESC-3/5 are checked
    here; PRESC-8: an out-of-stock or phased-out article of a fixed replacement group is
    substituted at once, one of an optional group gets a pending proposal to accept or decline.
    """
    prescription = _draft_for_update(ctx, reference)
    profile = prescriber_profile_for(ctx.user)
    article = (
        Article.objects.select_related("product_area", "agreement", "replacement_group")
        .filter(pk=article_id)
        .first()
    )
    if article is None:
        raise PrescriptionError(_("No such article."))
    if quantity < 1:
        raise PrescriptionError(_("Quantity: at least 1."))
    main_line = None
    if article.kind == ArticleKind.ACCESSORY:
        main_line = prescription.lines.filter(pk=main_line_id).first() if main_line_id else None
        if main_line is None or main_line.article_id != article.main_article_id:
            raise PrescriptionError(
                _("%(article)s is an accessory: add it to the line of its main article.")
                % {"article": article.article_number}
            )
    elif main_line_id is not None:
        raise PrescriptionError(_("Only an accessory can be added under another line."))

    requested = article
    today = timezone.localdate()
    orderable = article_orderable(article, today)
    # CAT's selector: the replacement the catalogue proposes, None when none is needed or found.
    proposal = replacement_for(article, day=today)
    if proposal is None and not orderable.ok:
        raise RuleRefused(
            _("%(article)s cannot be ordered: %(reason)s")
            % {"article": article.article_number, "reason": orderable.reason},
            rule="PRESC-8",
        )
    group_kind = article.replacement_group.kind if article.replacement_group else ""
    fixed = proposal is not None and group_kind == ReplacementKind.FIXED
    ordered = proposal if fixed and proposal is not None else article
    _check_article(prescription, profile, ordered)
    if supply is not None and supply not in Supply.values:
        raise PrescriptionError(_("Rent or buy: choose one."))
    if special_adaptation:
        _signature_clear(prescription)  # PRESC-6: a new adapted line needs a new signature
    position = (prescription.lines.aggregate(m=Max("position"))["m"] or 0) + 1
    line = PrescriptionLine.objects.create(
        prescription=prescription,
        position=position,
        article=ordered,
        quantity=quantity,
        supply=supply or ordered.supply,
        main_line=main_line,
        unit_price_sek=ordered.price_sek,
        special_adaptation=special_adaptation,
        requested_article=requested if ordered.pk != requested.pk else None,
    )
    if proposal is not None:
        ReplacementDecision.objects.create(
            line=line,
            requested_article=requested,
            proposed_article=proposal,
            reason="out_of_stock" if orderable.ok else "not_orderable",
            group_kind=group_kind,
            outcome=ReplacementOutcome.AUTOMATIC if fixed else ReplacementOutcome.PENDING,
            decided_at=timezone.now() if fixed else None,
        )
    return line


@refusals_kept
@transaction.atomic
def prescription_replacement_decide(
    *, ctx: AccessContext, decision_id: int, accept: bool
) -> ReplacementDecision:
    """PRESC-8, optional group: the prescriber accepts the proposed article (the line takes it,
    its accessories go, as they fit the requested article) or keeps the requested one."""
    decision = (
        ReplacementDecision.objects.select_related("line__prescription").filter(pk=decision_id)
    ).first()
    if decision is None:
        raise PrescriptionNotFound(_("No such patient or prescription."))
    prescription = _draft_for_update(ctx, decision.line.prescription.reference)
    decision = ReplacementDecision.objects.select_for_update().get(pk=decision_id)
    if decision.outcome != ReplacementOutcome.PENDING:
        raise StateNotAllowed(_("This replacement has already been decided."))
    line = PrescriptionLine.objects.select_for_update().get(pk=decision.line_id)
    if accept:
        article = Article.objects.select_related("product_area", "agreement").get(
            pk=decision.proposed_article_id
        )
        _check_article(line.prescription, prescriber_profile_for(ctx.user), article)
        if line.special_adaptation:
            # PRESC-6: the signed risk assessment was for the article this line had.
            _signature_clear(prescription)
        line.accessory_lines.all().delete()
        line.requested_article_id = line.article_id
        line.article = article
        line.unit_price_sek = article.price_sek
        line.save(update_fields=["requested_article", "article", "unit_price_sek"])
    decision.outcome = ReplacementOutcome.ACCEPTED if accept else ReplacementOutcome.DECLINED
    decision.decided_at = timezone.now()
    decision.decided_by = ctx.user
    decision.save(update_fields=["outcome", "decided_at", "decided_by"])
    return decision


def _signature_clear(prescription: Prescription) -> None:
    if prescription.risk_assessment_signed_at is not None:
        prescription.risk_assessment_signed_at = None
        prescription.risk_assessment_signed_by = None
        prescription.save(update_fields=["risk_assessment_signed_at", "risk_assessment_signed_by"])


@refusals_kept
@transaction.atomic
def prescription_line_change(
    *,
    ctx: AccessContext,
    reference: str,
    line_id: int,
    quantity: int | None = None,
    supply: str | None = None,
    special_adaptation: bool | None = None,
) -> PrescriptionLine:
    """Change a draft line's quantity, rent or buy, or special adaptation (PRESC-6)."""
    prescription = _draft_for_update(ctx, reference)
    line = prescription.lines.select_for_update().filter(pk=line_id).first()
    if line is None:
        raise PrescriptionError(_("No such line."))
    if quantity is not None:
        if quantity < 1:
            raise PrescriptionError(_("Quantity: at least 1."))
        line.quantity = quantity
    if supply is not None:
        if supply not in Supply.values:
            raise PrescriptionError(_("Rent or buy: choose one."))
        line.supply = supply
    if special_adaptation is not None:
        line.special_adaptation = special_adaptation
        # A new adaptation needs a new signature on the risk assessment.
        if special_adaptation:
            _signature_clear(prescription)
    line.save(update_fields=["quantity", "supply", "special_adaptation"])
    return line


@refusals_kept
@transaction.atomic
def prescription_line_remove(*, ctx: AccessContext, reference: str, line_id: int) -> None:
    """Remove a draft line; its accessory lines go with it."""
    prescription = _draft_for_update(ctx, reference)
    deleted, _counts = prescription.lines.filter(pk=line_id).delete()
    if not deleted:
        raise PrescriptionError(_("No such line."))


def free_text_check(label: str, value: str, *, patient_id: int | None = None) -> str:
    """LEAK-1, L5: free text is read by logistics and customer service, who hold no grant: no
    identity number, and not the patient's name or street address."""
    value = value.strip()
    if contains_identity_number(value):
        raise PrescriptionError(_("%(field)s: do not write a personnummer.") % {"field": label})
    if patient_id is not None and value:
        # The names and street lines as far as this user's database session can read them
        # (row-level security: a user who cannot open the patient cannot know them either).
        identity = PatientIdentity.objects.filter(patient_id=patient_id).first()
        if identity is not None and mentions_any(value, identity_words(identity, addresses=True)):
            raise PrescriptionError(
                _("%(field)s: do not write the patient's name or address.") % {"field": label}
            )
    return value


@refusals_kept
@transaction.atomic
def prescription_details_set(
    *,
    ctx: AccessContext,
    reference: str,
    need: str | None = None,
    urgency: str | None = None,
    fitting_note: str | None = None,
) -> Prescription:
    """The need the prescription meets, its urgency and the fitting note (draft only)."""
    prescription = _draft_for_update(ctx, reference)
    if need is not None:
        prescription.need = free_text_check(_("Need"), need, patient_id=prescription.patient_id)
    if urgency is not None:
        if urgency not in Urgency.values:
            raise PrescriptionError(_("Urgency: choose normal or urgent."))
        prescription.urgency = urgency
    if fitting_note is not None:
        prescription.fitting_note = free_text_check(
            _("Fitting note"), fitting_note, patient_id=prescription.patient_id
        )
    prescription.save(update_fields=["need", "urgency", "fitting_note"])
    return prescription


@refusals_kept
@transaction.atomic
def prescription_delivery_set(
    *,
    ctx: AccessContext,
    reference: str,
    kind: str,
    special_agreement_id: int | None = None,
) -> Prescription:
    """Choose where an ordinary patient's delivery goes. For a protected patient only the unit
    or a recorded special agreement (LEAK-3) is possible (PRESC-2)."""
    prescription = _draft_for_update(ctx, reference)
    patient = Patient.objects.select_for_update().get(pk=prescription.patient_id)
    if kind not in DeliveryKind.values:
        raise PrescriptionError(_("Delivery: choose where it goes."))
    if kind == DeliveryKind.PATIENT_ADDRESS and patient_guarded(patient.pk):
        raise RuleRefused(
            _("For a patient with protected identity, delivery goes to your unit."),
            rule="PRESC-2",
        )
    prescription.special_agreement = None
    if kind == DeliveryKind.SPECIAL_AGREEMENT:
        agreement = (
            SpecialDeliveryAgreement.objects.filter(
                pk=special_agreement_id, patient=patient, ended_at__isnull=True
            ).first()
            if special_agreement_id is not None
            else None
        )
        if agreement is None:
            raise RuleRefused(_("There is no special delivery agreement in force."), rule="PRESC-2")
        prescription.special_agreement = agreement
    prescription.delivery_kind = kind
    _delivery_for(prescription, patient)
    with presc2_enforced(prescription):
        prescription.save()
    return prescription


# --- submit and routing ----------------------------------------------------------------------


def prescription_route(
    *, prescription: Prescription, actor: Any | None, note: str = ""
) -> Evaluation:
    """Evaluate a submitted or waiting prescription and move it on: to the next thing it waits
    for, or approved (then marked for invoicing, REGION-1/5). Writes the eligibility record.

    H2: the patient may have become protected (or linked to a protected person) while the
    prescription waited. The patient is locked and delivery recomputed before anything else,
    so the state change below never meets the PRESC-2 trigger with a stale address."""
    patient = Patient.objects.select_for_update().get(pk=prescription.patient_id)
    _delivery_for(prescription, patient)
    with presc2_enforced(prescription):
        prescription.save(update_fields=list(DELIVERY_FIELDS))
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
    """Submit a draft: re-read the patient's protection (delivery recomputed, PRESC-2), evaluate
    every rule, store the eligibility record and route it. SubmitRefused lists what to fix."""
    prescription = _draft_for_update(ctx, reference)
    return _submit(prescription, actor=ctx.user)


def _submit(prescription: Prescription, *, actor: Any) -> Prescription:
    patient = Patient.objects.select_for_update().get(pk=prescription.patient_id)
    _delivery_for(prescription, patient)
    with presc2_enforced(prescription):
        prescription.save()
        # A refusal in prescription_route rolls the submitted transition back with the rest.
        prescription_transition_apply(prescription=prescription, to_state=S.SUBMITTED, actor=actor)
    prescription_route(prescription=prescription, actor=actor)
    return prescription


@refusals_kept
@transaction.atomic
def prescription_cancel(*, ctx: AccessContext, reference: str, reason: str = "") -> Prescription:
    """Cancel a prescription that is not yet approved."""
    prescription = prescription_for_update(ctx, reference)
    if prescription.state not in OPEN_STATES:
        raise StateNotAllowed(
            _("Prescription %(number)s can no longer be cancelled.")
            % {"number": prescription.reference}
        )
    note = free_text_check(_("Reason"), reason, patient_id=prescription.patient_id)
    # The trigger checks delivery on every change of state: bring it up to date first (H2, L6).
    patient = Patient.objects.select_for_update().get(pk=prescription.patient_id)
    _delivery_for(prescription, patient)
    with presc2_enforced(prescription):
        prescription.save(update_fields=list(DELIVERY_FIELDS))
        prescription_transition_apply(
            prescription=prescription, to_state=S.CANCELLED, actor=ctx.user, note=note
        )
    return prescription


# --- PRESC-6 signing, PRESC-4 fitting --------------------------------------------------------


@refusals_kept
@transaction.atomic
def prescription_risk_assessment_sign(*, ctx: AccessContext, reference: str) -> Prescription:
    """PRESC-6: the prescriber signs the risk assessment of the specially adapted lines, after
    confirming the password (step-up, as ACCESS-4). A waiting prescription moves on."""
    prescription = prescription_for_update(ctx, reference)
    if prescription.prescriber_id != ctx.user.pk:
        raise RuleRefused(_("Only the prescriber can sign the risk assessment."), rule="PRESC-6")
    if not ctx.stepped_up:
        raise StepUpRequired(_("Confirm your password to sign the risk assessment."))
    if prescription.state not in (S.DRAFT, S.AWAITING_SIGNATURE):
        raise StateNotAllowed(_("There is no risk assessment to sign."))
    if not prescription.lines.filter(special_adaptation=True).exists():
        raise StateNotAllowed(_("There is no risk assessment to sign."))
    prescription.risk_assessment_signed_at = timezone.now()
    prescription.risk_assessment_signed_by = ctx.user
    prescription.save(update_fields=["risk_assessment_signed_at", "risk_assessment_signed_by"])
    if prescription.state == S.AWAITING_SIGNATURE:
        prescription_route(prescription=prescription, actor=ctx.user, note="PRESC-6")
    return prescription


@refusals_kept
@transaction.atomic
def prescription_fitting_record(
    *,
    ctx: AccessContext,
    reference: str,
    journal_note_confirmed: bool = False,
    liability_form_signed: bool = False,
) -> Prescription:
    """Record the fitting of an approved prescription. PRESC-4: for a protected patient no
    liability form is signed; the prescriber confirms a journal note that the information was
    given instead. An ordinary patient signs the liability form."""
    prescription = prescription_for_update(ctx, reference)
    if prescription.state != S.APPROVED:
        raise StateNotAllowed(_("Only an approved prescription can be fitted."))
    if prescription.fitted_at is not None:
        raise StateNotAllowed(_("The fitting is already recorded."))
    patient = Patient.objects.select_for_update().get(pk=prescription.patient_id)
    # PRESC-4 and PRESC-2 ask the guard as it is now (PROT-5 included); delivery follows it.
    _delivery_for(prescription, patient)
    guarded = prescription.patient_protected
    if guarded:
        if liability_form_signed:
            raise RuleRefused(
                _(
                    "No liability form for a patient with protected identity: confirm the "
                    "journal note instead."
                ),
                rule="PRESC-4",
            )
        if not journal_note_confirmed:
            raise RuleRefused(
                _("Confirm that the journal notes that the information was given."),
                rule="PRESC-4",
            )
    elif not liability_form_signed:
        raise RuleRefused(_("Confirm that the liability form is signed."), rule="PRESC-4")
    prescription.fitted_at = timezone.now()
    prescription.fitted_by = ctx.user
    prescription.liability_form_signed = liability_form_signed and not guarded
    prescription.journal_note_confirmed = journal_note_confirmed
    with presc2_enforced(prescription):
        prescription.save(
            update_fields=[
                *DELIVERY_FIELDS,
                "fitted_at",
                "fitted_by",
                "liability_form_signed",
                "journal_note_confirmed",
            ]
        )
    return prescription


# --- customer service phone orders (PRESC-2) -------------------------------------------------

PHONE_ORDER_PERMISSION = "prescriptions.add_phone_order"


@dataclass(frozen=True)
class PhoneOrderLine:
    article_id: int
    quantity: int = 1
    supply: str | None = None


class _PhoneOrderRefused(Exception):
    """The prescriber may not open the patient; carries the patient for the audit entry."""

    def __init__(self, patient: Patient) -> None:
        super().__init__()
        self.patient = patient


def prescription_phone_order_create(
    *,
    ctx: AccessContext,
    patient_reference: str,
    prescriber_id: int,
    unit_id: int,
    lines: list[PhoneOrderLine],
    need: str = "",
    urgency: str = Urgency.NORMAL,
) -> Prescription:
    """Customer service enters an order a prescriber phones in, and submits it. The same rules
    hold as in the prescriber's pages: delivery is computed (PRESC-2), never typed, and a
    guarded patient's order (protected, or linked to a protected person, PROT-5) is possible
    only for a prescriber the gate would open the patient to.

    A refusal is audited (L4): the order's transaction rolls back, the denied access entry is
    written after it, in the caller's transaction."""
    try:
        return _phone_order_create(
            ctx=ctx,
            patient_reference=patient_reference,
            prescriber_id=prescriber_id,
            unit_id=unit_id,
            lines=lines,
            need=need,
            urgency=urgency,
        )
    except _PhoneOrderRefused as refused:
        access_entry_record(
            actor=ctx.actor,
            action=AccessAction.CHANGE,
            outcome=AccessOutcome.DENIED,
            patient=refused.patient,
            object_type="phone_order",
        )
        # The same answer as for no patient at all: customer service learns nothing.
        raise PrescriptionNotFound(_("No such patient or prescription.")) from None


@transaction.atomic
def _phone_order_create(
    *,
    ctx: AccessContext,
    patient_reference: str,
    prescriber_id: int,
    unit_id: int,
    lines: list[PhoneOrderLine],
    need: str,
    urgency: str,
) -> Prescription:
    if not holds_role_permission(ctx.user, PHONE_ORDER_PERMISSION):
        raise PrescriptionError(_("Only customer service can enter phone orders."))
    prescriber = get_user_model().objects.filter(pk=prescriber_id, is_active=True).first()
    patient = Patient.objects.select_for_update().filter(reference=patient_reference).first()
    if prescriber is None or patient is None:
        raise PrescriptionNotFound(_("No such patient or prescription."))
    # The gate's decision for the prescriber, on the guards read whoever asks: customer
    # service cannot read a relative's register links, the database can (PROT-5). Step-up is
    # the prescriber's own affair on the phone; a grant for every guard is what counts.
    prescriber_ctx = AccessContext(user=prescriber, actor=ctx.actor, session=None)
    if decide_for_guards(prescriber_ctx, patient_guard_ids(patient.pk)) is Decision.MASKED:
        raise _PhoneOrderRefused(patient)
    access_entry_record(
        actor=ctx.actor,
        action=AccessAction.CHANGE,
        outcome=AccessOutcome.ALLOWED,
        patient=patient,
        object_type="phone_order",
    )
    profile = prescriber_profile_for(prescriber)
    unit = acting_unit_id(prescriber, profile, unit_id)
    if not profile.prescribes_personal_devices:
        raise RuleRefused(
            _("An orderer for a unit cannot prescribe personal devices."), rule="PRESC-5"
        )
    if not lines:
        raise PrescriptionError(_("Add at least one article."))
    prescription = _draft_create(
        patient=patient, prescriber=prescriber, unit_id=unit, entered_by=ctx.user
    )
    prescription.need = free_text_check(_("Need"), need, patient_id=patient.pk)
    if urgency not in Urgency.values:
        raise PrescriptionError(_("Urgency: choose normal or urgent."))
    prescription.urgency = urgency
    prescription.save(update_fields=["need", "urgency"])
    for position, order_line in enumerate(lines, start=1):
        article = (
            Article.objects.select_related("product_area", "agreement")
            .filter(pk=order_line.article_id)
            .first()
        )
        if article is None or article.kind == ArticleKind.ACCESSORY:
            raise PrescriptionError(_("Phone orders take main articles; no such article."))
        if article.out_of_stock or not article.in_assortment:
            raise RuleRefused(
                _("%(article)s is not available: the prescriber chooses the replacement.")
                % {"article": article.article_number},
                rule="PRESC-8",
            )
        _check_article(prescription, profile, article)
        PrescriptionLine.objects.create(
            prescription=prescription,
            position=position,
            article=article,
            quantity=max(1, order_line.quantity),
            supply=order_line.supply or article.supply,
            unit_price_sek=article.price_sek,
        )
    return _submit(prescription, actor=ctx.user)
