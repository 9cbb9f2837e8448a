"""The prescriber's first pages: search a patient and open the patient page.

The search is a POST: an identity number must never travel in a URL or query string (LEAK-1).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from patients.forms import PatientSearchForm
from patients.models import Patient
from patients.presenters import PatientCard
from patients.selectors import patient_get_for_user, patient_search_for_user
from patients.services import Actor


@never_cache
@login_required
@permission_required("patients.view_patient", raise_exception=True)
@require_http_methods(["GET", "POST"])
def patient_search(request: HttpRequest) -> HttpResponse:
    card: PatientCard | None = None
    searched = False
    if request.method == "POST":
        form = PatientSearchForm(request.POST)
        if form.is_valid():
            searched = True
            card = patient_search_for_user(
                actor=Actor.from_request(request), number=form.cleaned_data["number"]
            )
            # The number is not echoed back into the form after a search.
            form = PatientSearchForm()
    else:
        form = PatientSearchForm()
    return render(
        request, "patients/search.html", {"form": form, "card": card, "searched": searched}
    )


@never_cache
@login_required
@permission_required("patients.view_patient", raise_exception=True)
@require_http_methods(["GET"])
def patient_detail(request: HttpRequest, reference: str) -> HttpResponse:
    try:
        card = patient_get_for_user(actor=Actor.from_request(request), reference=reference)
    except Patient.DoesNotExist as exc:
        raise Http404 from exc
    return render(request, "patients/detail.html", {"card": card})
