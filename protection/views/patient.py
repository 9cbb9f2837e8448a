"""Patient pages behind the gate, step-up, emergency access, grant requests and grant review.

Identity numbers travel only in POST bodies, never in URLs (LEAK-1). Every view that shows a
patient goes through ``protection.gate``; none reads identifying fields itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from patients.forms import PatientSearchForm
from patients.models import Patient
from protection.documents.forms import SummaryRequestForm
from protection.documents.letters import LETTER_PERMISSION
from protection.forms import (
    EmergencyAccessForm,
    StepUpForm,
)
from protection.gate import (
    AccessContext,
    Decision,
    GateAnswer,
    patient_get_for_user,
    patient_search_for_user,
)
from protection.permissions import (
    UNIT_MANAGER_PERMISSION,
    holds_role_permission,
    role_permission_required,
)
from protection.refusals import StepUpRequired, not_found, refusals_answered
from protection.registry import patient_page_sections_for
from protection.services import ProtectionError
from protection.services.emergency import emergency_access_open
from protection.services.step_up import StepUp, step_up_confirm
from protection.tokens import masked_token, patient_from_masked_token


@never_cache
@sensitive_post_parameters("number")  # LEAK-1: error reports never carry the searched number
@login_required
@permission_required("patients.view_patient", raise_exception=True)
@require_http_methods(["GET", "POST"])
def patient_search_view(request: HttpRequest) -> HttpResponse:
    answer: GateAnswer | None = None
    searched = False
    if request.method == "POST":
        form = PatientSearchForm(request.POST)
        if form.is_valid():
            searched = True
            answer = patient_search_for_user(
                AccessContext.from_request(request), form.cleaned_data["number"]
            )
            form = PatientSearchForm()  # the number is not echoed back
    else:
        form = PatientSearchForm()
    return render(
        request,
        "protection/search.html",
        {"form": form, "searched": searched, **_card_context(request, answer)},
    )


@never_cache
@login_required
@permission_required("patients.view_patient", raise_exception=True)
@require_http_methods(["GET"])
@refusals_answered
def patient_detail_view(request: HttpRequest, reference: str) -> HttpResponse:
    """The patient page: the full card, or the masked one (it is the page's answer for a
    patient the user may not see, not a refusal); an unknown reference and a missing step-up
    take the floor's one refusal path."""
    ctx = AccessContext.from_request(request)
    try:
        answer = patient_get_for_user(ctx, reference)
    except Patient.DoesNotExist:
        raise not_found() from None
    if answer.decision is Decision.STEP_UP:
        # The gate logged the read as denied, in autocommit: nothing for the refusal to keep.
        raise StepUpRequired()
    return render(
        request,
        "protection/detail.html",
        {
            **_card_context(request, answer),
            "sections": _sections(request, ctx, answer),
            "summary_form": SummaryRequestForm(),
            "can_write_letter": holds_role_permission(request.user, LETTER_PERMISSION),
            # REG-2, REG-3: the register's actions on the full card.
            "can_refresh": holds_role_permission(request.user, "patients.refresh_from_register"),
            "can_record_reserve": holds_role_permission(
                request.user, "patients.record_reserve_number"
            ),
        },
    )


@dataclass(frozen=True)
class _RenderedSection:
    key: str
    title: str | Promise
    html: SafeString


def _sections(
    request: HttpRequest, ctx: AccessContext, answer: GateAnswer
) -> list[_RenderedSection]:
    """The higher floors' sections (``protection.registry.patient_page_sections``), on the full
    card only: a masked card asks no provider, so nothing of the patient's devices or orders
    reaches it."""
    if answer.decision is not Decision.FULL or answer.card.masked:
        return []
    return [
        _RenderedSection(
            key=section.key,
            title=section.title,
            html=render_to_string(section.template_name, dict(section.context), request=request),
        )
        for section in patient_page_sections_for(ctx, answer.patient)
    ]


def _card_context(request: HttpRequest, answer: GateAnswer | None) -> dict[str, object]:
    """What the card templates get: the card and the actions the user may take on it. Never
    the patient object itself, and for a masked card never its reference: the actions carry
    an opaque token instead (ACCESS-1)."""
    if answer is None:
        return {"card": None}
    masked = answer.card.masked
    user_id = int(request.user.pk or 0)
    return {
        "card": answer.card,
        "step_up": answer.decision is Decision.STEP_UP,
        "patient_token": masked_token(patient_id=answer.patient.pk, user_id=user_id)
        if masked
        else "",
        "can_emergency": masked
        and holds_role_permission(request.user, "protection.add_emergencyaccess"),
        "can_request": masked and holds_role_permission(request.user, UNIT_MANAGER_PERMISSION),
    }


@never_cache
@sensitive_post_parameters("password")
@login_required
@require_http_methods(["GET", "POST"])
def step_up_view(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or reverse("patients:search")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("patients:search")
    form = StepUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = step_up_confirm(
            ctx=AccessContext.from_request(request), password=form.cleaned_data["password"]
        )
        if result is StepUp.CONFIRMED:
            return HttpResponseRedirect(next_url)
        if result is StepUp.SIGNED_OUT:
            logout(request)
            messages.error(
                request, _("Too many wrong passwords. You have been logged out; log in again.")
            )
            return redirect("login")
        form.add_error("password", _("The password is not correct."))
    return render(request, "protection/step_up.html", {"form": form, "next": next_url})


@never_cache
@login_required
@role_permission_required("protection.add_emergencyaccess")
@require_POST
def emergency_access_view(request: HttpRequest) -> HttpResponse:
    """POST only: the masked card's button brings the token; the form then adds the reason."""
    token = request.POST.get("patient_token", "")
    patient = patient_from_masked_token(token, user_id=int(request.user.pk or 0))
    if patient is None or not patient.is_protected:
        raise Http404
    form = EmergencyAccessForm(request.POST if "reason" in request.POST else None)
    if form.is_bound and form.is_valid():
        try:
            emergency_access_open(
                ctx=AccessContext.from_request(request),
                patient=patient,
                reason=form.cleaned_data["reason"],
            )
        except ProtectionError as exc:
            form.add_error("reason", str(exc))
        else:
            messages.warning(request, _("Emergency access is open, logged and will be reviewed."))
            return redirect("patients:detail", reference=patient.reference)
    return render(request, "protection/emergency.html", {"form": form, "patient_token": token})
