"""The prescriber's lists: a patient's devices, prescriptions and consultation activities, and
my prescriptions.

Patients are reached only through the selectors, which ask ``protection.gate``: a protected
patient the user holds no grant for gets the same 404 as a patient that does not exist, and a
grant holder who has not confirmed the password is sent to step-up (ACCESS-1, ACCESS-4). URLs
carry the internal patient reference or the prescription number, never an identity number.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from prescriptions.forms import ConsultationBookingForm, StateFilterForm
from prescriptions.models import ConsultationActivity, PrescriptionState
from prescriptions.selectors.activity import consultation_activity_list_for_user
from prescriptions.selectors.prescription import (
    prescription_list_for_patient,
    prescription_list_for_user,
)
from prescriptions.services.documents import NOT_CONFIRMABLE
from prescriptions.services.drafts import prescription_draft_start
from prescriptions.services.errors import RuleRefused
from protection.gate import AccessContext
from protection.labels import patient_labels_for_user
from protection.permissions import role_permission_required
from protection.refusals import refusals_answered

VIEW_PRESCRIPTION = "prescriptions.view_prescription"
ADD_PRESCRIPTION = "prescriptions.add_prescription"
MY_LIST_LIMIT = 200


def booking_form_prefix(activity_id: int) -> str:
    """The prefix of an activity's booking form: unique field ids on a page of several."""
    return f"activity-{activity_id}"


def back_to_patient(request: HttpRequest, reference: str, **kwargs: object) -> str:
    """After step-up, a POST comes back to the patient's page (a POST is never replayed)."""
    return reverse("prescriptions:patient", args=[reference])


def patient_page(
    request: HttpRequest,
    reference: str,
    *,
    bound: dict[str, forms.Form] | None = None,
    errors: list[tuple[str, str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The patient's devices (lines of approved prescriptions) and prescriptions, every unit,
    and the consultation activities of the user's units (PRESC-7); ``bound`` replaces a form by
    the one the user sent, shown with ``errors`` in the error summary."""
    bound = bound or {}
    found = prescription_list_for_patient(
        ctx=AccessContext.from_request(request), patient_reference=reference
    )
    prescriptions = found.prescriptions
    devices = [
        line
        for prescription in prescriptions
        if prescription.state == PrescriptionState.APPROVED
        for line in prescription.lines.all()
    ]
    # Each activity with its booking form; a booked one's form rebooks it (PRESC-7: the
    # booking in force is cancelled and a new one made), starting from what it holds.
    activities: list[tuple[ConsultationActivity, forms.Form | None]] = []
    for activity in consultation_activity_list_for_user(user=request.user, patient=found.patient):
        key = booking_form_prefix(activity.pk)
        in_force = activity.booking_in_force  # type: ignore[attr-defined]
        initial = (
            {
                field: getattr(in_force, field)
                for field in ("place", "service", "work_order_number", "phone", "consultant")
            }
            if in_force is not None
            else {}
        )
        form = bound.get(key) or ConsultationBookingForm(prefix=key, initial=initial)
        activities.append((activity, form))
    return render(
        request,
        "prescriptions/patient.html",
        {
            "reference": reference,
            "card": found.card,
            "prescriptions": prescriptions,
            "devices": devices,
            "activities": activities,
            "errors": errors or [],
            # PRINT-1 also for a patient linked to a protected one (PROT-5).
            "protected": found.card.protected or found.card.guarded,
        },
        status=status,
    )


@never_cache
@login_required
@role_permission_required(VIEW_PRESCRIPTION)
@require_GET
@refusals_answered(next_url=back_to_patient)
def patient_prescriptions_view(request: HttpRequest, reference: str) -> HttpResponse:
    """The patient's "devices and prescriptions" page (``patient_page``)."""
    return patient_page(request, reference)


@never_cache
@login_required
@role_permission_required(ADD_PRESCRIPTION)
@require_POST
@refusals_answered(next_url=back_to_patient)
def prescription_start_view(request: HttpRequest, reference: str) -> HttpResponse:
    """Start a draft for the patient at the unit the prescriber acts for."""
    try:
        prescription = prescription_draft_start(
            ctx=AccessContext.from_request(request), patient_reference=reference
        )
    except RuleRefused as exc:
        messages.error(request, str(exc))
        return redirect("prescriptions:patient", reference=reference)
    return redirect("prescriptions:detail", number=prescription.reference)


@never_cache
@login_required
@role_permission_required(VIEW_PRESCRIPTION)
@require_GET
def my_prescriptions_view(request: HttpRequest) -> HttpResponse:
    """My prescriptions with their states, newest first; one query for the list, and the
    patients as labels in a fixed few more (``patient_labels_for_user``, ACCESS-1, AUDIT-1)."""
    form = StateFilterForm(request.GET or None)
    states = None
    if form.is_bound and form.is_valid() and form.cleaned_data["state"]:
        states = [form.cleaned_data["state"]]
    prescriptions = list(
        prescription_list_for_user(user=request.user, states=states)[:MY_LIST_LIMIT]
    )
    # Name first, reference second, masked where the gate says so; each name shown is logged.
    cards = patient_labels_for_user(
        ctx=AccessContext.from_request(request),
        rows=[(p.patient_id, p.reference) for p in prescriptions],
        object_type="prescription",
    )
    return render(
        request,
        "prescriptions/mine.html",
        {
            "form": form,
            "rows": [(p, cards[p.patient_id]) for p in prescriptions],
            "prescriptions": prescriptions,
            "limit": MY_LIST_LIMIT,
            "not_confirmable": NOT_CONFIRMABLE,
            # PRINT-1: a list naming a protected (or hidden) patient prints only a notice.
            "protected": any(
                card.protected or card.masked or card.guarded for card in cards.values()
            ),
        },
    )
