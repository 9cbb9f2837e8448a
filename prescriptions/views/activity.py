"""PRESC-7 from the patient's devices page: register a consultation activity and book its time.

Both are POSTs about the patient of the page, whose read goes through the gate first (404 for a
masked patient, step-up for a grant holder and back to the page); the services check the
patient and the unit again. A refusal is shown on the page in the error summary, which names
the field and keeps what was typed; a success redirects back to the page's activities
(post/redirect/get).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from prescriptions.forms import ConsultationBookingForm
from prescriptions.selectors.activity import consultation_activity_get_for_user
from prescriptions.services.activity import (
    BookingDetails,
    consultation_activity_book,
    consultation_activity_create,
)
from prescriptions.services.errors import PrescriptionError, StateNotAllowed
from prescriptions.views.draft_form import form_errors
from prescriptions.views.patient import (
    ADD_PRESCRIPTION,
    back_to_patient,
    booking_form_prefix,
    patient_page,
)
from protection.gate import AccessContext
from protection.permissions import role_permission_required
from protection.refusals import refusals_answered


def _to_activities(reference: str) -> str:
    return reverse("prescriptions:patient", args=[reference]) + "#activities"


@never_cache
@login_required
@role_permission_required(ADD_PRESCRIPTION)
@require_POST
@refusals_answered(next_url=back_to_patient)
def activity_create_view(request: HttpRequest, reference: str) -> HttpResponse:
    """PRESC-7: a consultation activity for the patient at the unit the prescriber acts for."""
    try:
        consultation_activity_create(
            ctx=AccessContext.from_request(request), patient_reference=reference
        )
    except PrescriptionError as exc:
        return patient_page(request, reference, errors=[("activities", str(exc))], status=400)
    messages.success(request, _("The consultation activity is registered: book its time."))
    return redirect(_to_activities(reference))


@never_cache
@login_required
@role_permission_required(ADD_PRESCRIPTION)
@require_POST
@refusals_answered(next_url=back_to_patient)
def activity_book_view(request: HttpRequest, reference: str, activity_id: int) -> HttpResponse:
    """PRESC-7: book the time of an activity of this patient at one of the user's units; for a
    booked one, rebook (the booking in force is cancelled and kept as history)."""
    # The activity is reached through the patient's page: another patient's or another unit's
    # is not found, like one that does not exist (house style 5).
    consultation_activity_get_for_user(
        user=request.user, patient_reference=reference, activity_id=activity_id
    )
    key = booking_form_prefix(activity_id)
    form = ConsultationBookingForm(request.POST, prefix=key)
    if not form.is_valid():
        return patient_page(
            request, reference, bound={key: form}, errors=form_errors(form, key), status=400
        )
    try:
        consultation_activity_book(
            ctx=AccessContext.from_request(request),
            activity_id=activity_id,
            details=BookingDetails(**form.cleaned_data),
        )
    except PrescriptionError as exc:
        form.add_error(None, str(exc))
        # A closed activity is about the activity; any other refusal is about the time typed,
        # and its message names the field: the summary leads to it.
        anchor = key if isinstance(exc, StateNotAllowed) else form["booked_for"].id_for_label
        return patient_page(
            request, reference, bound={key: form}, errors=[(anchor, str(exc))], status=400
        )
    messages.success(request, _("The time is booked."))
    return redirect(_to_activities(reference))
