"""Patient pages behind the gate, step-up, emergency access, grant requests and grant review.

Identity numbers travel only in POST bodies, never in URLs (LEAK-1). Every view that shows a
patient goes through ``protection.gate``; none reads identifying fields itself.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from patients.forms import PatientSearchForm
from patients.models import Patient
from protection import services
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


def _step_up_url(request: HttpRequest, next_url: str) -> str:
    return f"{reverse('protection:step_up')}?next={next_url}"


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
        {
            "form": form,
            "answer": answer,
            "card": answer.card if answer else None,
            "searched": searched,
            "step_up": answer is not None and answer.decision is Decision.STEP_UP,
        },
    )


@never_cache
@login_required
@permission_required("patients.view_patient", raise_exception=True)
@require_http_methods(["GET"])
def patient_detail_view(request: HttpRequest, reference: str) -> HttpResponse:
    try:
        answer = patient_get_for_user(AccessContext.from_request(request), reference)
    except Patient.DoesNotExist as exc:
        raise Http404 from exc
    if answer.decision is Decision.STEP_UP:
        return redirect(_step_up_url(request, request.path))
    return render(
        request,
        "protection/detail.html",
        {
            "card": answer.card,
            "answer": answer,
            "can_request": request.user.has_perm("protection.add_grantrequest"),
        },
    )


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
        ok = services.step_up_confirm(
            ctx=AccessContext.from_request(request), password=form.cleaned_data["password"]
        )
        if ok:
            return HttpResponseRedirect(next_url)
        form.add_error("password", _("The password is not correct."))
    return render(request, "protection/step_up.html", {"form": form, "next": next_url})


@never_cache
@login_required
@permission_required("patients.view_patient", raise_exception=True)
@require_http_methods(["GET", "POST"])
def emergency_access_view(request: HttpRequest, reference: str) -> HttpResponse:
    patient = Patient.objects.filter(reference=reference, is_protected=True).first()
    if patient is None:
        raise Http404
    form = EmergencyAccessForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.emergency_access_open(
                ctx=AccessContext.from_request(request),
                patient=patient,
                reason=form.cleaned_data["reason"],
            )
        except services.ProtectionError as exc:
            form.add_error("reason", str(exc))
        else:
            messages.warning(request, _("Emergency access is open, logged and will be reviewed."))
            return redirect("patients:detail", reference=patient.reference)
    return render(request, "protection/emergency.html", {"form": form, "reference": reference})
