"""The prescription page and its actions: lines from the catalogue, need and urgency, delivery,
submit, the outcome and why, the home-region agreement (REGION-2), replacements (PRESC-8), the
risk assessment (PRESC-6), the fitting (PRESC-4) and cancelling.

The page is read through ``prescription_get_for_user`` (through the gate: 404 for a masked
patient or another unit's prescription, step-up for a grant holder; AUDIT-1 logs each read).
Every change is a POST to a service; a refusal is shown on the page in an error summary that
names the field, and a success redirects back to the page (post/redirect/get). The views hold
no rule: the delivery destination, the outcome and the "why" are the services' answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from prescriptions import registry
from prescriptions.forms import (
    CancelForm,
    DeliveryForm,
    DetailsForm,
    FittingForm,
    HomeRegionAgreementForm,
    LineAddForm,
    LineChangeForm,
    ReplacementForm,
    RiskAssessmentSignForm,
)
from prescriptions.models import DeliveryKind, PrescriptionState
from prescriptions.selectors.catalogue import article_search
from prescriptions.selectors.prescription import PrescriptionDetail, prescription_get_for_user
from prescriptions.selectors.region import out_of_region
from prescriptions.services.delivery import prescription_delivery_set
from prescriptions.services.documents import NOT_CONFIRMABLE
from prescriptions.services.drafts import prescription_details_set
from prescriptions.services.errors import PrescriptionError, SubmitRefused
from prescriptions.services.lines import (
    prescription_line_add,
    prescription_line_change,
    prescription_line_remove,
    prescription_replacement_decide,
)
from prescriptions.services.region import home_region_agreement_record
from prescriptions.services.routing import prescription_cancel, prescription_submit
from prescriptions.services.signing import (
    prescription_fitting_record,
    prescription_risk_assessment_sign,
)
from prescriptions.services.state import OPEN_STATES
from prescriptions.views.catalogue import CatalogueSearchForm
from prescriptions.views.patient import ADD_PRESCRIPTION, VIEW_PRESCRIPTION
from protection.documents.forms import SummaryRequestForm
from protection.gate import AccessContext
from protection.permissions import role_permission_required
from protection.refusals import refusals_answered

S = PrescriptionState

# How the page names each criterion of the eligibility record (the "why"); the record itself
# keeps the services' stable keys. Every key the eligibility service writes has its label here
# (tests/prescriptions/test_views.py walks them): the page never shows a raw key.
CRITERION_LABELS: dict[str, Any] = {
    "lines": gettext_lazy("Articles on the prescription"),
    "protected_patient": gettext_lazy("Protected identity"),
    "parcel_through_forwarding": gettext_lazy(
        "Parcel within the limits of Skatteverket's forwarding service"
    ),
    "special_dietary_food_for_protected": gettext_lazy(
        "Special dietary food for a protected patient"
    ),
    "authorised_for_personal_devices": gettext_lazy("Ordering right for personal devices"),
    "competence": gettext_lazy("Registered training in the product areas"),
    "agreement_in_force": gettext_lazy("Agreement in force, article in the assortment"),
    "replacement_applied": gettext_lazy("Replacements decided"),
    "resident_abroad": gettext_lazy("Resident abroad"),
    "country_group": gettext_lazy("Country group"),
    "certificate_valid": gettext_lazy("Valid certificate"),
    "last_registered_region": gettext_lazy("Last registered in region"),
    "patient_pays_prescribing_unit": gettext_lazy("The patient pays the prescribing unit"),
    "home_region": gettext_lazy("Home region (county code) when the care episode started"),
    "out_of_region": gettext_lazy("Out-of-region patient"),
    "total_cost_sek": gettext_lazy("Total cost with accessories (SEK)"),
    "largest_device_cost_sek": gettext_lazy("Most expensive device with accessories (SEK)"),
    "over_limit": gettext_lazy("10 000 SEK or more"),
    "advanced_service": gettext_lazy("Advanced adaptation or service"),
    "hearing": gettext_lazy("Hearing device"),
    "home_region_agreement_needed": gettext_lazy("Home-region agreement needed"),
    "home_region_agreement_present": gettext_lazy("Home-region agreement recorded"),
    "registration_needed": gettext_lazy("Registration with the supply organisation needed"),
    "registration_cleared": gettext_lazy("Registration cleared by customer service"),
    "special_adaptation": gettext_lazy("Specially adapted device"),
    "special_adaptation_signed": gettext_lazy("Risk assessment signed"),
}
EFFECT_LABELS: dict[str, Any] = {
    "ok": gettext_lazy("Fulfilled"),
    "block": gettext_lazy("Stops the submit"),
    "wait": gettext_lazy("Waiting for it"),
    "route": gettext_lazy("Decides delivery or payer"),
}
# The state the prescription waits in, and what the prescriber can do about it.
WAITING_HINTS: dict[str, Any] = {
    S.AWAITING_AGREEMENT: gettext_lazy(
        "Blocked until the home region's agreement is recorded (REGION-2): record it below."
    ),
    S.AWAITING_REGISTRATION: gettext_lazy(
        "Waiting for customer service to clear the patient's registration (REGION-3)."
    ),
    S.AWAITING_SIGNATURE: gettext_lazy(
        "Waiting for your signature on the risk assessment (PRESC-6): sign it below."
    ),
}

ErrorList = list[tuple[str, str]]


def _detail(request: HttpRequest, number: str) -> PrescriptionDetail:
    return prescription_get_for_user(ctx=AccessContext.from_request(request), reference=number)


def _criteria(detail: PrescriptionDetail) -> list[dict[str, Any]]:
    if detail.eligibility is None:
        return []
    rows = []
    for item in detail.eligibility.criteria:
        value = item.get("value")
        if isinstance(value, bool):
            shown: Any = _("Yes") if value else _("No")
        else:
            shown = value if value not in (None, "") else "-"
        rows.append(
            {
                "label": CRITERION_LABELS.get(item.get("criterion", ""), item.get("criterion")),
                "value": shown,
                "rule": item.get("rule", ""),
                "effect": item.get("effect", ""),
                "effect_label": EFFECT_LABELS.get(item.get("effect", ""), item.get("effect")),
                "message": item.get("message", ""),
            }
        )
    return rows


def form_errors(form: forms.Form, section: str) -> ErrorList:
    """Each error with the field it belongs to, for the error summary (WCAG 3.3.1)."""
    found: ErrorList = []
    for name, errors in form.errors.items():
        if name == NON_FIELD_ERRORS:
            found += [(section, str(error)) for error in errors]
            continue
        field = form[name]
        anchor = field.id_for_label or field.auto_id or section
        found += [(anchor, f"{field.label}: {error}") for error in errors]
    return found


def _page(
    request: HttpRequest,
    detail: PrescriptionDetail,
    *,
    bound: dict[str, Any] | None = None,
    errors: ErrorList | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the prescription page; ``bound`` replaces forms by the ones the user sent."""
    bound = bound or {}
    prescription = detail.prescription
    draft = prescription.state == S.DRAFT
    episode = prescription.episode
    episode_out_of_region = out_of_region(episode)
    adapted = any(line.special_adaptation for line in detail.lines)
    context: dict[str, Any] = {
        "detail": detail,
        "prescription": prescription,
        "card": detail.card,
        "lines": detail.lines,
        "draft": draft,
        "errors": errors or [],
        "criteria": _criteria(detail),
        "waiting_hint": WAITING_HINTS.get(prescription.state, ""),
        "protected": prescription.patient_protected,
        "delivery_to_unit": prescription.delivery_kind == DeliveryKind.UNIT,
        "transitions": prescription.transitions.select_related("by").order_by("at", "pk"),
        "agreements": prescription.home_region_agreements.select_related("issuing_region"),
        "episode_out_of_region": episode_out_of_region,
        # REGION-3: the registration page is offered where the region pages accept it.
        "registration_offered": prescription.state == S.AWAITING_REGISTRATION
        or (draft and episode_out_of_region),
        "can_cancel": prescription.state in OPEN_STATES,
    }
    if draft:
        context["line_forms"] = [
            (
                line,
                bound.get(f"line-{line.pk}")
                or LineChangeForm(
                    prefix=f"line-{line.pk}",
                    initial={
                        "quantity": line.quantity,
                        "supply": line.supply,
                        "special_adaptation": line.special_adaptation,
                    },
                ),
            )
            for line in detail.lines
        ]
        context["details_form"] = bound.get("details") or DetailsForm(
            initial={
                "need": prescription.need,
                "urgency": prescription.urgency,
                "fitting_note": prescription.fitting_note,
            }
        )
        if not prescription.patient_protected:
            context["delivery_form"] = bound.get("delivery") or DeliveryForm(
                initial={
                    "kind": prescription.delivery_kind,
                    "pickup_point": prescription.pickup_point_id,
                }
            )
        search = CatalogueSearchForm(request.GET or None)
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
        )
    if (
        adapted
        and prescription.risk_assessment_signed_at is None
        and prescription.state in (S.DRAFT, S.AWAITING_SIGNATURE)
    ):
        context["sign_form"] = bound.get("sign") or RiskAssessmentSignForm()
    if prescription.state == S.APPROVED:
        context["order"] = registry.order_summary(prescription.pk)
    if prescription.state == S.APPROVED and prescription.fitted_at is None:
        context["fitting_form"] = bound.get("fitting") or FittingForm(
            protected=prescription.patient_protected
        )
    if prescription.state not in NOT_CONFIRMABLE:
        context["print_form"] = SummaryRequestForm()  # PRINT-2's fields, for a protected patient
    if context["can_cancel"]:
        context["cancel_form"] = bound.get("cancel") or CancelForm()
    return render(request, "prescriptions/detail.html", context, status=status)


def back_to_detail(request: HttpRequest, number: str, *args: Any, **kwargs: Any) -> str:
    """Where step-up sends the user back to: the prescription's page (a POST is never
    replayed)."""
    return reverse("prescriptions:detail", args=[number])


# Missing, another unit's or a masked patient's prescription: 404 (house style 5); a grant
# holder who has not confirmed the password goes to step-up and comes back to the page.
answered_on_detail = refusals_answered(next_url=back_to_detail)


def _done(request: HttpRequest, number: str, message: str, anchor: str = "") -> HttpResponse:
    messages.success(request, message)
    return redirect(reverse("prescriptions:detail", args=[number]) + anchor)


def _refused(
    request: HttpRequest, number: str, form: forms.Form, key: str, section: str, exc: Exception
) -> HttpResponse:
    """Show the service's refusal on the form it came from, with the page around it."""
    form.add_error(None, str(exc))
    return _page(
        request,
        _detail(request, number),
        bound={key: form},
        errors=form_errors(form, section),
        status=400,
    )


def _invalid(
    request: HttpRequest, number: str, form: forms.Form, key: str, section: str
) -> HttpResponse:
    return _page(
        request,
        _detail(request, number),
        bound={key: form},
        errors=form_errors(form, section),
        status=400,
    )


def _form_post(
    request: HttpRequest,
    number: str,
    form: forms.Form,
    *,
    key: str,
    section: str,
    act: Callable[[AccessContext, dict[str, Any]], str],
    anchor: str,
) -> HttpResponse:
    """One form of the prescription page: validate it, let ``act`` call the service (it returns
    the message of success), and show a refusal on the form it came from."""
    if not form.is_valid():
        return _invalid(request, number, form, key, section)
    try:
        message = act(AccessContext.from_request(request), form.cleaned_data)
    except PrescriptionError as exc:
        return _refused(request, number, form, key, section, exc)
    return _done(request, number, message, anchor)


# --- the page ---------------------------------------------------------------------------------


@never_cache
@login_required
@role_permission_required(VIEW_PRESCRIPTION)
@require_GET
@answered_on_detail
def prescription_detail_view(request: HttpRequest, number: str) -> HttpResponse:
    return _page(request, _detail(request, number))


# --- lines ------------------------------------------------------------------------------------


@never_cache
@login_required
@role_permission_required(ADD_PRESCRIPTION)
@require_POST
@answered_on_detail
def line_add_view(request: HttpRequest, number: str) -> HttpResponse:
    def act(ctx: AccessContext, data: dict[str, Any]) -> str:
        line = prescription_line_add(
            ctx=ctx, reference=number, article_id=data["article"], main_line_id=data["main_line"]
        )
        return _("Added on line %(position)s: %(article)s.") % {
            "position": line.position,
            "article": line.article.name,
        }

    form = LineAddForm(request.POST)
    return _form_post(request, number, form, key="add", section="lines", act=act, anchor="#lines")


@never_cache
@login_required
@role_permission_required(ADD_PRESCRIPTION)
@require_POST
@answered_on_detail
def line_change_view(request: HttpRequest, number: str, line_id: int) -> HttpResponse:
    def act(ctx: AccessContext, data: dict[str, Any]) -> str:
        prescription_line_change(
            ctx=ctx,
            reference=number,
            line_id=line_id,
            quantity=data["quantity"],
            supply=data["supply"],
            special_adaptation=data["special_adaptation"],
        )
        return _("The line is saved.")

    key = f"line-{line_id}"
    form = LineChangeForm(request.POST, prefix=key)
    return _form_post(request, number, form, key=key, section="lines", act=act, anchor="#lines")


@never_cache
@login_required
@role_permission_required(ADD_PRESCRIPTION)
@require_POST
@answered_on_detail
def line_remove_view(request: HttpRequest, number: str, line_id: int) -> HttpResponse:
    try:
        prescription_line_remove(
            ctx=AccessContext.from_request(request), reference=number, line_id=line_id
        )
    except PrescriptionError as exc:
        return _page(request, _detail(request, number), errors=[("lines", str(exc))], status=400)
    return _done(request, number, _("The line is removed."), "#lines")


@never_cache
@login_required
@role_permission_required(ADD_PRESCRIPTION)
@require_POST
@answered_on_detail
def replacement_decide_view(request: HttpRequest, number: str, decision_id: int) -> HttpResponse:
    """PRESC-8: accept or decline the proposed replacement of an optional group."""
    form = ReplacementForm(request.POST)
    if not form.is_valid():
        return _invalid(request, number, form, "replacement", "lines")
    # The decision must belong to this prescription: the page is reached by its number.
    detail = _detail(request, number)
    if decision_id not in {decision.pk for decision in detail.pending_replacements}:
        raise Http404
    accept = form.cleaned_data["decision"] == "accept"
    try:
        prescription_replacement_decide(
            ctx=AccessContext.from_request(request), decision_id=decision_id, accept=accept
        )
    except PrescriptionError as exc:
        return _refused(request, number, form, "replacement", "lines", exc)
    return _done(
        request,
        number,
        _("The replacement is accepted.") if accept else _("The requested article is kept."),
        "#lines",
    )


# --- need, delivery, submit ------------------------------------------------------------------


@never_cache
@login_required
@role_permission_required(ADD_PRESCRIPTION)
@require_POST
@answered_on_detail
def details_view(request: HttpRequest, number: str) -> HttpResponse:
    def act(ctx: AccessContext, data: dict[str, Any]) -> str:
        prescription_details_set(ctx=ctx, reference=number, **data)
        return _("Need, urgency and fitting note are saved.")

    form = DetailsForm(request.POST)
    return _form_post(
        request, number, form, key="details", section="details", act=act, anchor="#details"
    )


@never_cache
@login_required
@role_permission_required(ADD_PRESCRIPTION)
@require_POST
@answered_on_detail
def delivery_view(request: HttpRequest, number: str) -> HttpResponse:
    def act(ctx: AccessContext, data: dict[str, Any]) -> str:
        point = data.get("pickup_point")
        prescription_delivery_set(
            ctx=ctx,
            reference=number,
            kind=data["kind"],
            pickup_point_id=point.pk if point is not None else None,
        )
        return _("The delivery is saved.")

    form = DeliveryForm(request.POST)
    return _form_post(
        request, number, form, key="delivery", section="delivery", act=act, anchor="#delivery"
    )


@never_cache
@login_required
@role_permission_required(ADD_PRESCRIPTION)
@require_POST
@answered_on_detail
def submit_view(request: HttpRequest, number: str) -> HttpResponse:
    try:
        prescription = prescription_submit(
            ctx=AccessContext.from_request(request), reference=number
        )
    except SubmitRefused as exc:
        return _page(
            request,
            _detail(request, number),
            errors=[("submit", reason) for reason in exc.reasons],
            status=400,
        )
    except PrescriptionError as exc:
        return _page(request, _detail(request, number), errors=[("submit", str(exc))], status=400)
    return _done(
        request,
        number,
        _("Prescription %(number)s is submitted: %(state)s.")
        % {"number": number, "state": PrescriptionState(prescription.state).label},
        "#outcome",
    )


# --- REGION-2, PRESC-6, PRESC-4, cancel ------------------------------------------------------


@never_cache
@login_required
@role_permission_required(ADD_PRESCRIPTION)
@require_POST
@answered_on_detail
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
    return _form_post(
        request, number, form, key="agreement", section="agreement", act=act, anchor="#outcome"
    )


@never_cache
@sensitive_post_parameters()
@login_required
@role_permission_required(ADD_PRESCRIPTION)
@require_POST
@answered_on_detail
def sign_view(request: HttpRequest, number: str) -> HttpResponse:
    """PRESC-6: sign the risk assessment; the service asks for a fresh password confirmation."""

    def act(ctx: AccessContext, data: dict[str, Any]) -> str:
        prescription_risk_assessment_sign(ctx=ctx, reference=number)
        return _("The risk assessment is signed.")

    form = RiskAssessmentSignForm(request.POST)
    return _form_post(request, number, form, key="sign", section="sign", act=act, anchor="#outcome")


@never_cache
@login_required
@role_permission_required(ADD_PRESCRIPTION)
@require_POST
@answered_on_detail
def fitting_view(request: HttpRequest, number: str) -> HttpResponse:
    """PRESC-4: the fitting, with the journal note for a protected patient instead of the
    liability form."""
    detail = _detail(request, number)
    protected = detail.prescription.patient_protected
    form = FittingForm(request.POST, protected=protected)
    if not form.is_valid():
        return _page(
            request,
            detail,
            bound={"fitting": form},
            errors=form_errors(form, "fitting"),
            status=400,
        )
    try:
        prescription_fitting_record(
            ctx=AccessContext.from_request(request),
            reference=number,
            journal_note_confirmed=protected,
            liability_form_signed=not protected,
        )
    except PrescriptionError as exc:
        return _refused(request, number, form, "fitting", "fitting", exc)
    return _done(request, number, _("The fitting is recorded."), "#fitting")


@never_cache
@login_required
@role_permission_required(ADD_PRESCRIPTION)
@require_POST
@answered_on_detail
def cancel_view(request: HttpRequest, number: str) -> HttpResponse:
    def act(ctx: AccessContext, data: dict[str, Any]) -> str:
        prescription_cancel(ctx=ctx, reference=number, reason=data["reason"])
        return _("Prescription %(number)s is cancelled.") % {"number": number}

    form = CancelForm(request.POST)
    return _form_post(request, number, form, key="cancel", section="cancel", act=act, anchor="")
