"""A draft's lines: adding an article (or its accessory), PRESC-8 replacements, changing and
removing a line.

Every service is keyword-only and atomic; it locks the prescription, then checks, then writes
(house style 3). Lines change only while the prescription is a draft.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from prescriptions.models import (
    Article,
    ArticleKind,
    PrescriberProfile,
    Prescription,
    PrescriptionLine,
    ReplacementDecision,
    ReplacementKind,
    ReplacementOutcome,
    Supply,
)
from prescriptions.registry import draft_changed
from prescriptions.selectors.catalogue import article_orderable, replacement_for
from prescriptions.services.access import patient_guarded, prescriber_profile_for
from prescriptions.services.eligibility import DIETARY_FOOD_AREA
from prescriptions.services.errors import (
    PrescriptionError,
    RuleRefused,
    StateNotAllowed,
)
from prescriptions.services.ordering_right import ordering_right
from prescriptions.services.state import prescription_draft_for_update
from protection.gate import AccessContext
from protection.refusals import not_found, refusals_kept


def prescription_article_check(
    *, prescription: Prescription, profile: PrescriberProfile, article: Article
) -> None:
    """May this article go on this prescription: PRESC-3 (no special dietary food for a
    guarded patient), PRESC-5 (the ordering right in its product area), PRESC-8 (its agreement
    in force). Phone orders ask it too."""
    consumable_article_check(patient_id=prescription.patient_id, profile=profile, article=article)


def consumable_article_check(
    *, patient_id: int, profile: PrescriberProfile, article: Article
) -> None:
    """The checks of ``prescription_article_check`` for a patient rather than a draft: a
    consumable prescription asks them when it is written, its withdrawals again as orders."""
    # PRESC-3 asks the guard as it is now, not the draft's snapshot.
    if article.product_area_id == DIETARY_FOOD_AREA and patient_guarded(patient_id):
        raise RuleRefused(
            _(
                "Special dietary food cannot be prescribed here for a patient with protected "
                "identity: it is prescribed through a pharmacy."
            ),
            rule="PRESC-3",
        )
    ordering_right(profile, [article.product_area]).check()
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
    prescription = prescription_draft_for_update(ctx=ctx, reference=reference)
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
    prescription_article_check(prescription=prescription, profile=profile, article=ordered)
    if supply is not None and supply not in Supply.values:
        raise PrescriptionError(_("Rent or buy: choose one."))
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
    draft_changed(prescription.pk)  # LOG-1: the logistics floor reserves the goods
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
        raise not_found()
    # Locks the draft and checks the user may act on it.
    prescription_draft_for_update(ctx=ctx, reference=decision.line.prescription.reference)
    decision = ReplacementDecision.objects.select_for_update().get(pk=decision_id)
    if decision.outcome != ReplacementOutcome.PENDING:
        raise StateNotAllowed(_("This replacement has already been decided."))
    line = PrescriptionLine.objects.select_for_update().get(pk=decision.line_id)
    if accept:
        article = Article.objects.select_related("product_area", "agreement").get(
            pk=decision.proposed_article_id
        )
        prescription_article_check(
            prescription=line.prescription,
            profile=prescriber_profile_for(ctx.user),
            article=article,
        )
        line.accessory_lines.all().delete()
        line.requested_article_id = line.article_id
        line.article = article
        line.unit_price_sek = article.price_sek
        line.save(update_fields=["requested_article", "article", "unit_price_sek"])
    decision.outcome = ReplacementOutcome.ACCEPTED if accept else ReplacementOutcome.DECLINED
    decision.decided_at = timezone.now()
    decision.decided_by = ctx.user
    decision.save(update_fields=["outcome", "decided_at", "decided_by"])
    draft_changed(decision.line.prescription_id)
    return decision


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
    prescription = prescription_draft_for_update(ctx=ctx, reference=reference)
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
    line.save(update_fields=["quantity", "supply", "special_adaptation"])
    draft_changed(prescription.pk)
    return line


@refusals_kept
@transaction.atomic
def prescription_line_remove(*, ctx: AccessContext, reference: str, line_id: int) -> None:
    """Remove a draft line; its accessory lines go with it."""
    prescription = prescription_draft_for_update(ctx=ctx, reference=reference)
    deleted, _counts = prescription.lines.filter(pk=line_id).delete()
    if not deleted:
        raise PrescriptionError(_("No such line."))
    draft_changed(prescription.pk)
