"""Consultation activities (PRESC-7): the work the scheduled task does claims its rows with a
conditional UPDATE, so a second run, or two at once, does nothing twice."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Final

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from prescriptions.models import (
    ActivityState,
    BookingState,
    ConsultationActivity,
    ConsultationBooking,
)
from prescriptions.services.access import (
    acting_unit_id,
    patient_for_prescribing,
    prescriber_profile_for,
)
from prescriptions.services.errors import PrescriptionError, StateNotAllowed
from protection.gate import AccessContext
from protection.refusals import PatientNotFound, refusals_kept

# PRESC-7: an activity without a booked time closes after this long.
ACTIVITY_BOOKING_WINDOW: Final = datetime.timedelta(days=3)


@refusals_kept
@transaction.atomic
def consultation_activity_create(
    *, ctx: AccessContext, patient_reference: str, unit_id: int | None = None
) -> ConsultationActivity:
    """PRESC-7: a consultation activity waiting for the patient to book a time."""
    profile = prescriber_profile_for(ctx.user)
    unit = acting_unit_id(ctx.user, profile, unit_id)
    patient = patient_for_prescribing(ctx, patient_reference)
    return ConsultationActivity.objects.create(patient=patient, unit_id=unit, prescriber=ctx.user)


@dataclass(frozen=True)
class BookingDetails:
    """What a booking records (PRESC-7): the time, the place, the service it concerns, the work
    order number, a phone number where the prescriber can be reached and, optionally, the
    consultant."""

    booked_for: datetime.datetime
    place: str
    service: str
    work_order_number: str
    phone: str
    consultant: str = ""


@refusals_kept
@transaction.atomic
def consultation_activity_book(
    *, ctx: AccessContext, activity_id: int, details: BookingDetails
) -> ConsultationBooking:
    """A time is booked for an activity (the prescriber's own, or their unit's). Rebooking a
    booked activity cancels the booking in force and books anew: both stay as its history."""
    activity = ConsultationActivity.objects.select_for_update().filter(pk=activity_id).first()
    profile = prescriber_profile_for(ctx.user)
    if activity is None or not profile.units.filter(pk=activity.unit_id).exists():
        raise PatientNotFound(_("No such activity."))
    patient_for_prescribing(ctx, activity.patient.reference)
    if activity.state == ActivityState.CLOSED:
        raise StateNotAllowed(_("This activity is closed: create a new one."))
    if details.booked_for <= timezone.now():
        raise PrescriptionError(_("Booked time: choose a time in the future."))
    now = timezone.now()
    ConsultationBooking.objects.filter(activity=activity, state=BookingState.BOOKED).update(
        state=BookingState.CANCELLED, cancelled_at=now
    )
    booking = ConsultationBooking.objects.create(
        activity=activity,
        booked_for=details.booked_for,
        place=details.place.strip(),
        service=details.service.strip(),
        work_order_number=details.work_order_number.strip().upper(),
        phone=details.phone.strip(),
        consultant=details.consultant.strip(),
        booked_by=ctx.user,
    )
    activity.booked_for = details.booked_for
    activity.state = ActivityState.BOOKED
    activity.save(update_fields=["booked_for", "state"])
    return booking


def consultation_activities_close_stale(*, now: datetime.datetime | None = None) -> int:
    """PRESC-7: close open activities that got no booked time within three days. One
    conditional UPDATE: an activity booked meanwhile no longer matches, and a second run finds
    nothing left. Returns how many were closed."""
    now = now or timezone.now()
    return ConsultationActivity.objects.filter(
        state=ActivityState.OPEN,
        booked_for__isnull=True,
        created_at__lte=now - ACTIVITY_BOOKING_WINDOW,
    ).update(state=ActivityState.CLOSED, closed_at=now)
