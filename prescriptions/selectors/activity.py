"""Reads of consultation activities (PRESC-7) for the patient's devices page."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Prefetch

from patients.models import Patient
from prescriptions.models import (
    ActivityState,
    BookingState,
    ConsultationActivity,
    ConsultationBooking,
)
from protection.refusals import not_found

LIVE_STATES = (ActivityState.OPEN, ActivityState.BOOKED)


def consultation_activity_list_for_user(
    *, user: Any, patient: Patient
) -> list[ConsultationActivity]:
    """PRESC-7: the patient's open and booked activities at the units the user prescribes for,
        booked ones first by their time, then open ones oldest first, each with its bookings; two
    queries (one when there is none). ``patient`` is the
        gate's answer the caller already holds (``prescription_list_for_patient``): this reads no
        patient of its own."""
    if not (user.is_authenticated and user.is_active):
        return []
    activities = list(
        ConsultationActivity.objects.filter(
            patient=patient, state__in=LIVE_STATES, unit__prescribers__user_id=user.pk
        )
        .select_related("unit__unit", "prescriber")
        .prefetch_related(
            Prefetch("bookings", queryset=ConsultationBooking.objects.order_by("booked_at", "pk"))
        )
        .order_by(F("booked_for").asc(nulls_last=True), "created_at", "pk")
    )
    # The booking in force, and the cancelled ones before it (the rebooking history).
    for activity in activities:
        bookings = list(activity.bookings.all())
        activity.booking_in_force = next(  # type: ignore[attr-defined]
            (b for b in bookings if b.state == BookingState.BOOKED), None
        )
        activity.bookings_cancelled = [  # type: ignore[attr-defined]
            b for b in bookings if b.state == BookingState.CANCELLED
        ]
    return activities


def consultation_activity_get_for_user(
    *, user: Any, patient_reference: str, activity_id: int
) -> ConsultationActivity:
    """PRESC-7: an activity of this patient at one of the units the user prescribes for; the
    same not-found answer for a missing one, another patient's and another unit's (house style
    5). Reads no identity: the service that acts on it asks the gate for the patient."""
    activity = (
        ConsultationActivity.objects.filter(
            pk=activity_id,
            patient__reference=patient_reference,
            unit__prescribers__user_id=user.pk,
        ).first()
        if user.is_authenticated and user.is_active
        else None
    )
    if activity is None:
        raise not_found()
    return activity
