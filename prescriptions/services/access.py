"""Who may act on which patient and prescription: the floor's one access path.

Patients are reached only through ``protection.refusals.patient_answer`` (the gate's answer):
a protected patient the user holds no grant for is answered exactly as a patient that does not
exist (``PatientNotFound``); a user with a grant who has not confirmed the password gets
``StepUpRequired`` (ACCESS-4). A missing or another unit's prescription gets the same
``not_found()`` as a masked patient (house style 5).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from patients.models import Patient, StaffProfile
from prescriptions.models import PrescriberProfile, Prescription
from prescriptions.services.errors import RuleRefused
from protection.gate import AccessContext
from protection.permissions import holds_role_permission
from protection.refusals import not_found, patient_answer
from protection.rls import patient_guard_ids

PRESCRIBE_PERMISSION = "prescriptions.add_prescription"


def patient_for_prescribing(ctx: AccessContext, patient_reference: str) -> Patient:
    """The patient, locked, if this user may see who it is; logged by the gate (AUDIT-1).
    Otherwise one of the refusals of ``protection.refusals.patient_answer``: the service that
    calls this keeps their audit with ``refusals_kept``."""
    return Patient.objects.select_for_update().get(
        pk=patient_answer(ctx, patient_reference).patient.pk
    )


def patient_guarded(patient_id: int) -> bool:
    """The floor's one notion of "treat this patient as protected": the gate's guard, the
    patient itself or a protected person the register links it to (PROT-5), read whoever asks
    (PRESC-2, PRESC-3, PRESC-4, the phone order, the database trigger)."""
    return bool(patient_guard_ids(patient_id))


def prescriber_profile_for(user: Any) -> PrescriberProfile:
    """The user's ordering right; a user without one (or without the role) may not prescribe."""
    if not holds_role_permission(user, PRESCRIBE_PERMISSION):
        raise RuleRefused(_("You have no right to prescribe."), rule="PRESC-5")
    profile = PrescriberProfile.objects.filter(user_id=user.pk).prefetch_related("units").first()
    if profile is None:
        raise RuleRefused(_("You have no registered ordering right."), rule="PRESC-5")
    return profile


def acting_unit_id(user: Any, profile: PrescriberProfile, unit_id: int | None) -> int:
    """The prescribing unit: the one asked for, else the unit the user acts for; one of the
    prescriber's own units either way."""
    if unit_id is None:
        unit_id = (
            StaffProfile.objects.filter(user_id=user.pk).values_list("unit_id", flat=True).first()
        )
    units = {unit.pk for unit in profile.units.all()}
    if unit_id is None or unit_id not in units:
        raise RuleRefused(_("Choose one of your prescribing units."), rule="PRESC-5")
    return unit_id


def prescription_for_update(ctx: AccessContext, reference: str) -> Prescription:
    """A prescription to change, locked: the user's own, or one of a unit they prescribe for,
    and its patient open to them through the gate. 404-like otherwise (house style 5)."""
    prescription = (
        Prescription.objects.select_for_update(of=("self",))
        .select_related("patient", "episode")
        .filter(reference=reference)
        .first()
    )
    if prescription is None or not may_act_on(ctx.user, prescription):
        raise not_found()
    patient_for_prescribing(ctx, prescription.patient.reference)
    return prescription


def may_act_on(user: Any, prescription: Prescription) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    if prescription.prescriber_id == user.pk:
        return True
    return PrescriberProfile.objects.filter(user_id=user.pk, units=prescription.unit_id).exists()


def may_act_on_unit(user: Any, obj: Any) -> bool:
    """``may_act_on`` for anything with a prescriber and a unit (a consumable prescription)."""
    if not (user.is_authenticated and user.is_active):
        return False
    if obj.prescriber_id == user.pk:
        return True
    return PrescriberProfile.objects.filter(user_id=user.pk, units=obj.unit_id).exists()
