"""Reads of consultation activities (PRESC-7) for the patient's devices page."""

from __future__ import annotations

from typing import Any

from django.db.models import F

from patients.models import Patient
from prescriptions.models import ActivityState, ConsultationActivity
from protection.refusals import not_found

LIVE_STATES = (ActivityState.OPEN, ActivityState.BOOKED)


def consultation_activity_list_for_user(
    *, user: Any, patient: Patient
) -> list[ConsultationActivity]:
    """PRESC-7: the patient's open and booked activities at the units the user prescribes for,
    booked ones first by their time, then open ones oldest first; one query. ``patient`` is the
    gate's answer the caller already holds (``prescription_list_for_patient``): this reads no
    patient of its own."""
    if not (user.is_authenticated and user.is_active):
        return []
    return list(
        ConsultationActivity.objects.filter(
            patient=patient, state__in=LIVE_STATES, unit__prescribers__user_id=user.pk
        )
        .select_related("unit__unit", "prescriber")
        .order_by(F("booked_for").asc(nulls_last=True), "created_at", "pk")
    )


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
