"""Who may act on which patient and prescription: the floor's one access path.

Patients are reached only through ``protection.gate``. A protected patient the user holds no
grant for is answered exactly as a patient that does not exist (``PrescriptionNotFound``); a
user with a grant who has not confirmed the password gets ``StepUpRequired`` (ACCESS-4).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from patients.models import AccessAction, AccessOutcome, Patient, StaffProfile
from patients.services import access_entry_record
from prescriptions.models import PrescriberProfile, Prescription
from prescriptions.services.errors import (
    PrescriptionError,
    PrescriptionNotFound,
    RuleRefused,
    StepUpRequired,
)
from protection.gate import AccessContext, Decision, GateAnswer, patient_get_for_user
from protection.permissions import holds_role_permission
from protection.rls import patient_guard_ids

PRESCRIBE_PERMISSION = "prescriptions.add_prescription"


def _not_found() -> PrescriptionNotFound:
    return PrescriptionNotFound(_("No such patient or prescription."))


def patient_answer(ctx: AccessContext, patient_reference: str) -> GateAnswer:
    """The gate's full answer (logged there, AUDIT-1), translated for this floor: the same
    not-found answer for a missing and a masked patient, step-up for a grant holder who has not
    confirmed the password. Every read and write of the floor reaches a patient through here."""
    try:
        answer = patient_get_for_user(ctx, patient_reference)
    except Patient.DoesNotExist:
        raise _not_found() from None
    if answer.decision is Decision.MASKED:
        raise _denied(_not_found(), answer.patient)
    if answer.decision is Decision.STEP_UP:
        raise _denied(
            StepUpRequired(_("Confirm your password to work with this patient.")), answer.patient
        )
    return answer


def patient_for_prescribing(ctx: AccessContext, patient_reference: str) -> Patient:
    """The patient, locked, if this user may see who it is; logged by the gate (AUDIT-1)."""
    return Patient.objects.select_for_update().get(
        pk=patient_answer(ctx, patient_reference).patient.pk
    )


def _denied(error: PrescriptionError, patient: Patient) -> PrescriptionError:
    # The services run in a transaction, and this refusal rolls back the gate's denied entry
    # with everything else; AUDIT-1 wants the denial kept. The view logs it again after the
    # rollback (denial_record_after_rollback). Outside a transaction the entry is already stored.
    if transaction.get_connection().in_atomic_block:
        error.denied_patient_id = patient.pk
    return error


def denial_record_after_rollback(ctx: AccessContext, error: PrescriptionError) -> None:
    """AUDIT-1: log again a refused patient read whose entry the service's rollback removed.

    Called by the views (outside any transaction) when a service answered not found or step-up.
    """
    if error.denied_patient_id is None or transaction.get_connection().in_atomic_block:
        return
    patient = Patient.objects.filter(pk=error.denied_patient_id).first()
    if patient is None:
        return
    access_entry_record(
        actor=ctx.actor,
        action=AccessAction.READ,
        outcome=AccessOutcome.DENIED,
        patient=patient,
        object_type="patient",
        object_id=patient.reference,
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
        raise _not_found()
    patient_for_prescribing(ctx, prescription.patient.reference)
    return prescription


def may_act_on(user: Any, prescription: Prescription) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    if prescription.prescriber_id == user.pk:
        return True
    return PrescriberProfile.objects.filter(user_id=user.pk, units=prescription.unit_id).exists()
