"""The prescription page and its actions: lines from the catalogue, need and urgency, delivery,
submit, the outcome and why, the home-region agreement (REGION-2), replacements (PRESC-8), the
risk assessment (PRESC-6), the fitting (PRESC-4) and cancelling.

The page is read through ``prescription_get_for_user`` (through the gate: 404 for a masked
patient or another unit's prescription, step-up for a grant holder; AUDIT-1 logs each read).

A draft is one form with several buttons, each posting to the view of its action. Every action
first saves what the form carries (need, urgency, fitting note, delivery, the lines' quantities),
each part through its service, and only then does what its button says: nothing typed is lost
to another button. A refusal is shown next to its field and in the error summary, with the page
as the user sent it; a success redirects back to the page (post/redirect/get). When step-up
interrupts an action, what was typed waits in the session (database-backed, never a URL or a log)
and is put back on the page once the password is confirmed, to be sent again. The views hold no
rule: the delivery destination, the outcome and the "why" are the services' answers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from prescriptions import registry
from prescriptions.forms import (
    CancelForm,
    DetailsForm,
    FittingForm,
    HomeRegionAgreementForm,
    LineAddForm,
    ReplacementForm,
)
from prescriptions.models import DeliveryKind, PrescriptionState
from prescriptions.presenters import criteria_rows, outcome_sentence
from prescriptions.selectors.catalogue import article_search
from prescriptions.selectors.prescription import (
    PrescriptionDetail,
    prescription_get_for_user,
    prescription_history,
)
from prescriptions.selectors.region import out_of_region
from prescriptions.services.documents import NOT_CONFIRMABLE
from prescriptions.services.errors import FieldRefused, PrescriptionError, SubmitRefused
from prescriptions.services.lines import (
    prescription_line_add,
    prescription_line_remove,
    prescription_replacement_decide,
)
from prescriptions.services.region import home_region_agreement_record
from prescriptions.services.routing import prescription_cancel, prescription_submit
from prescriptions.services.signing import prescription_fitting_record
from prescriptions.services.state import OPEN_STATES
from prescriptions.views.catalogue import CatalogueSearchForm
from prescriptions.views.draft_form import (
    KEPT_FIELDS,
    LINE_FIELD,
    ErrorList,
    draft_forms,
    draft_save,
    form_errors,
    typed_session_key,
)
from prescriptions.views.patient import ADD_PRESCRIPTION, VIEW_PRESCRIPTION
from protection.documents.forms import SummaryRequestForm
from protection.gate import AccessContext
from protection.permissions import permissions_read_once, role_permission_required
from protection.refusals import StepUpRequired, refusals_answered

S = PrescriptionState


def _detail(request: HttpRequest, number: str) -> PrescriptionDetail:
    return prescription_get_for_user(ctx=AccessContext.from_request(request), reference=number)


def _page(
    request: HttpRequest,
    detail: PrescriptionDetail,
    *,
    bound: Mapping[str, forms.Form] | None = None,
    errors: ErrorList | None = None,
    typed: Mapping[str, Any] | None = None,
    submit_refused: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the prescription page; ``bound`` replaces forms by the ones the user sent,
    ``typed`` fills them with what was typed before a step-up."""
    bound = bound or {}
    typed = typed or {}
    prescription = detail.prescription
    draft = prescription.state == S.DRAFT
    episode = prescription.episode
    episode_out_of_region = out_of_region(episode)
    adapted = any(line.special_adaptation for line in detail.lines)
    transitions = prescription_history(prescription)
    cancel_reason = next(
        (t.note for t in reversed(transitions) if t.to_state == S.CANCELLED and t.note), ""
    )
    context: dict[str, Any] = {
        # PRESC-6: the page says where the adaptation's signature is asked for.
        "adapted": adapted,
        "detail": detail,
        "prescription": prescription,
        "card": detail.card,
        "lines": detail.lines,
        "draft": draft,
        "errors": errors or [],
        "criteria": criteria_rows(detail),
        "outcome_sentence": outcome_sentence(detail, cancel_reason),
        "submit_refused": submit_refused or [],
        "typed_restored": bool(typed),
        # PRINT-1 also for a patient linked to a protected one (PROT-5).
        "protected": prescription.patient_protected or detail.card.guarded,
        "delivery_to_unit": prescription.delivery_kind == DeliveryKind.UNIT,
        "transitions": transitions,
        "agreements": prescription.home_region_agreements.select_related("issuing_region"),
        "episode_out_of_region": episode_out_of_region,
        # REGION-3: the registration page is offered where the region pages accept it.
        "registration_offered": prescription.state == S.AWAITING_REGISTRATION
        or (draft and episode_out_of_region),
        "can_cancel": prescription.state in OPEN_STATES,
    }
    if draft:
        drafts = draft_forms(detail, typed=typed)
        forms_ = {**drafts.bound(), **bound}
        context["line_forms"] = [(line, forms_[f"line-{line.pk}"]) for line in detail.lines]
        context["details_form"] = forms_["details"]
        context["delivery_form"] = forms_.get("delivery")
        source = request.POST if request.method == "POST" else request.GET
        search = CatalogueSearchForm(
            (source if source.get("q") or source.get("area") else None)
            or ({key: typed[key] for key in ("q", "area") if key in typed} or None)
        )
        context["search_form"] = search
        if search.is_bound and search.is_valid():
            context["entries"] = article_search(
                query=search.cleaned_data["q"],
                product_area=search.cleaned_data["area"] or None,
                day=timezone.localdate(),
            )
        context["row_action_template"] = "prescriptions/_add_article.html"
        # An accessory can go only under a line of its main article.
        context["main_article_ids"] = {line.article_id for line in detail.lines}
    if episode_out_of_region and prescription.state in (S.DRAFT, S.AWAITING_AGREEMENT):
        context["agreement_form"] = bound.get("agreement") or HomeRegionAgreementForm(
            initial={"issuing_region": episode.home_region_id}
            | {key: typed[key] for key in HomeRegionAgreementForm.base_fields if key in typed}
        )
    if prescription.state == S.APPROVED:
        context["order"] = registry.order_summary(prescription.pk)
    if prescription.state == S.APPROVED and prescription.fitted_at is None:
        context["fitting_form"] = bound.get("fitting") or FittingForm(
            protected=prescription.patient_protected
        )
    if prescription.state not in NOT_CONFIRMABLE:
        context["print_form"] = SummaryRequestForm()  # PRINT-2's fields, for a protected patient
    if context["can_cancel"]:
        context["cancel_form"] = bound.get("cancel") or CancelForm(
            prefix="cancel", initial={"reason": typed.get("cancel-reason", "")}
        )
    return render(request, "prescriptions/detail.html", context, status=status)


def back_to_detail(request: HttpRequest, number: str, *args: Any, **kwargs: Any) -> str:
    """Where step-up sends the user back to: the prescription's page (a POST is never
    replayed; what was typed waits in the session, see ``typed_kept``)."""
    return reverse("prescriptions:detail", args=[number])


# Missing, another unit's or a masked patient's prescription: 404 (house style 5); a grant
# holder who has not confirmed the password goes to step-up and comes back to the page.
answered_on_detail = refusals_answered(next_url=back_to_detail)


def typed_kept(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """When step-up interrupts an action, keep what the form carried in the session, so that
    the page shows it again once the password is confirmed. The session is the database's
    (patient data never goes into the step-up URL). Put it inside ``answered_on_detail``."""

    @functools.wraps(view)
    def kept(request: HttpRequest, number: str, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, number, *args, **kwargs)
        except StepUpRequired:
            typed = {
                name: value
                for name, value in request.POST.items()
                if name in KEPT_FIELDS or LINE_FIELD.fullmatch(name)
            }
            if typed:
                request.session[typed_session_key(number)] = typed
            raise

    return kept


def _search_query(request: HttpRequest) -> str:
    """The catalogue search the page showed, kept across an action (catalogue words only)."""
    search = {key: request.POST.get(key, "") for key in ("q", "area") if request.POST.get(key)}
    return f"?{urlencode(search)}" if search.get("q") or search.get("area") else ""


def _done(request: HttpRequest, number: str, message: str, anchor: str = "") -> HttpResponse:
    messages.success(request, message)
    return redirect(reverse("prescriptions:detail", args=[number]) + anchor)


Act = Callable[[AccessContext, dict[str, Any]], str]


@dataclass
class ActionForm:
    """The form of the button's own action, beside the draft's parts."""

    key: str
    section: str
    form: forms.Form


def _action(
    request: HttpRequest,
    number: str,
    *,
    act: Act,
    anchor: str,
    action: ActionForm | None = None,
    keep_search: bool = True,
) -> HttpResponse:
    """One button of the prescription page: save what the draft form carries, then check the
    button's own form and let ``act`` call the service (it returns the message of success). A
    refusal is shown on the field or form it belongs to, with everything as the user sent it."""
    ctx = AccessContext.from_request(request)
    detail = _detail(request, number)
    drafts = draft_forms(detail, request.POST) if detail.prescription.state == S.DRAFT else None
    bound: dict[str, forms.Form] = drafts.bound() if drafts is not None else {}
    errors: ErrorList = drafts.errors() if drafts is not None else []
    if drafts is not None and not errors:
        errors += draft_save(ctx, detail, drafts)
    if action is not None:
        bound[action.key] = action.form
        if not action.form.is_valid():
            errors += form_errors(action.form, action.section)
    if errors:
        return _page(request, _detail(request, number), bound=bound, errors=errors, status=400)
    try:
        message = act(ctx, action.form.cleaned_data if action is not None else {})
    except SubmitRefused as exc:
        return _page(
            request,
            _detail(request, number),
            bound=bound,
            errors=[("submit", reason) for reason in exc.reasons],
            submit_refused=exc.reasons,
            status=400,
        )
    except FieldRefused as exc:
        # The service names the field it refuses (the need, on submit): the message goes next
        # to that field of the draft form, and in the summary.
        details = drafts.details if drafts is not None else None
        if details is None or exc.field not in details.fields:
            errors = [(anchor.lstrip("#") or "lines", str(exc))]
        else:
            if not details.is_bound:
                details = DetailsForm(dict(details.initial))
                details.is_valid()
                bound["details"] = details
            details.add_error(exc.field, str(exc))
            errors = form_errors(details, "details")
        return _page(request, _detail(request, number), bound=bound, errors=errors, status=400)
    except PrescriptionError as exc:
        if action is not None:
            action.form.add_error(None, str(exc))
            errors = form_errors(action.form, action.section)
        else:
            errors = [(anchor.lstrip("#") or "lines", str(exc))]
        return _page(request, _detail(request, number), bound=bound, errors=errors, status=400)
    query = _search_query(request) if keep_search else ""
    return _done(request, number, message, query + anchor)


def _draft_action(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The decorators every button of the draft form shares: the prescriber's permission, a
    POST, what was typed kept over a step-up (never logged: ``sensitive_post_parameters``)."""
    decorated = answered_on_detail(typed_kept(view))
    decorated = require_POST(decorated)
    decorated = role_permission_required(ADD_PRESCRIPTION)(decorated)
    decorated = login_required(decorated)
    decorated = sensitive_post_parameters()(decorated)
    return never_cache(decorated)


# --- the page ---------------------------------------------------------------------------------


@never_cache
@login_required
# The role check and the menu's from one read of the user's permissions (issue 16).
@permissions_read_once
@role_permission_required(VIEW_PRESCRIPTION)
@require_GET
@answered_on_detail
def prescription_detail_view(request: HttpRequest, number: str) -> HttpResponse:
    detail = _detail(request, number)
    # Back from step-up: what was typed before it, shown again, to be sent again.
    typed = request.session.pop(typed_session_key(number), None)
    return _page(request, detail, typed=typed if isinstance(typed, dict) else None)


# --- the draft: save, search, lines ------------------------------------------------------------


@_draft_action
def details_view(request: HttpRequest, number: str) -> HttpResponse:
    """Save the draft (the page's default button); with a search typed, show its results."""

    def act(ctx: AccessContext, data: dict[str, Any]) -> str:
        return _("The draft is saved.")

    searching = bool(request.POST.get("q") or request.POST.get("area"))
    return _action(request, number, act=act, anchor="#catalogue" if searching else "#details")


@_draft_action
def line_add_view(request: HttpRequest, number: str) -> HttpResponse:
    """A catalogue row's "Add": the button's value names the row (``<article>`` or
    ``<main article>-<accessory>``); an accessory's main line is chosen in that row."""
    row = request.POST.get("article", "")
    main_line = request.POST.get("main_line") or request.POST.get(f"main_line-{row}")
    form = LineAddForm({"article": row.rsplit("-", 1)[-1], "main_line": main_line})

    def act(ctx: AccessContext, data: dict[str, Any]) -> str:
        line = prescription_line_add(
            ctx=ctx, reference=number, article_id=data["article"], main_line_id=data["main_line"]
        )
        return _("Added on line %(position)s: %(article)s.") % {
            "position": line.position,
            "article": line.article.name,
        }

    return _action(
        request, number, act=act, anchor="#lines", action=ActionForm("add", "lines", form)
    )


@_draft_action
def line_change_view(request: HttpRequest, number: str, line_id: int) -> HttpResponse:
    """A line's "Save": the draft, this line with it, is saved."""

    def act(ctx: AccessContext, data: dict[str, Any]) -> str:
        return _("The line is saved.")

    return _action(request, number, act=act, anchor="#lines")


@_draft_action
def line_remove_view(request: HttpRequest, number: str, line_id: int) -> HttpResponse:
    def act(ctx: AccessContext, data: dict[str, Any]) -> str:
        prescription_line_remove(ctx=ctx, reference=number, line_id=line_id)
        return _("The line is removed.")

    return _action(request, number, act=act, anchor="#lines")


@_draft_action
def replacement_decide_view(request: HttpRequest, number: str, decision_id: int) -> HttpResponse:
    """PRESC-8: accept or decline the proposed replacement of an optional group."""
    form = ReplacementForm(request.POST)

    def act(ctx: AccessContext, data: dict[str, Any]) -> str:
        # The decision must belong to this prescription: the page is reached by its number.
        if decision_id not in {d.pk for d in _detail(request, number).pending_replacements}:
            raise Http404
        accept = data["decision"] == "accept"
        prescription_replacement_decide(ctx=ctx, decision_id=decision_id, accept=accept)
        return _("The replacement is accepted.") if accept else _("The requested article is kept.")

    return _action(
        request, number, act=act, anchor="#lines", action=ActionForm("replacement", "lines", form)
    )


@_draft_action
def delivery_view(request: HttpRequest, number: str) -> HttpResponse:
    """The delivery's "Save": the draft, the delivery with it, is saved."""

    def act(ctx: AccessContext, data: dict[str, Any]) -> str:
        return _("The delivery is saved.")

    return _action(request, number, act=act, anchor="#delivery")


@_draft_action
def submit_view(request: HttpRequest, number: str) -> HttpResponse:
    """Submit: the draft is saved, then the service checks that the need is described and every
    rule."""

    def act(ctx: AccessContext, data: dict[str, Any]) -> str:
        prescription = prescription_submit(ctx=ctx, reference=number)
        return _("Prescription %(number)s is submitted: %(state)s.") % {
            "number": number,
            "state": PrescriptionState(prescription.state).label,
        }

    return _action(request, number, act=act, anchor="#outcome", keep_search=False)


# --- REGION-2, PRESC-6, PRESC-4, cancel ------------------------------------------------------


@_draft_action
def agreement_view(request: HttpRequest, number: str) -> HttpResponse:
    """REGION-2: record the home region's agreement with its document; a blocked prescription
    goes on."""

    def act(ctx: AccessContext, data: dict[str, Any]) -> str:
        home_region_agreement_record(
            ctx=ctx,
            reference=number,
            issuing_region_code=data["issuing_region"].county_code,
            agreement_reference=data["agreement_reference"],
            issued_on=data["issued_on"],
            supply=data["supply"],
            document=data["document"],
        )
        return _("The home-region agreement is recorded.")

    form = HomeRegionAgreementForm(request.POST, request.FILES)
    return _action(
        request,
        number,
        act=act,
        anchor="#outcome",
        action=ActionForm("agreement", "agreement", form),
    )


@_draft_action
def fitting_view(request: HttpRequest, number: str) -> HttpResponse:
    """PRESC-4: the fitting, with the journal note for a protected patient instead of the
    liability form."""
    protected = _detail(request, number).prescription.patient_protected
    form = FittingForm(request.POST, protected=protected)

    def act(ctx: AccessContext, data: dict[str, Any]) -> str:
        prescription_fitting_record(
            ctx=ctx,
            reference=number,
            journal_note_confirmed=protected,
            liability_form_signed=not protected,
        )
        return _("The fitting is recorded.")

    return _action(
        request, number, act=act, anchor="#fitting", action=ActionForm("fitting", "fitting", form)
    )


@_draft_action
def cancel_view(request: HttpRequest, number: str) -> HttpResponse:
    """Cancel, confirmed with a ticked box and a reason, which the history keeps."""

    def act(ctx: AccessContext, data: dict[str, Any]) -> str:
        prescription_cancel(ctx=ctx, reference=number, reason=data["reason"])
        return _("Prescription %(number)s is cancelled.") % {"number": number}

    # Prefixed: the risk assessment's and the fitting's boxes are also "confirm".
    form = CancelForm(request.POST, prefix="cancel")
    return _action(
        request,
        number,
        act=act,
        anchor="#outcome",
        action=ActionForm("cancel", "cancel", form),
        keep_search=False,
    )
