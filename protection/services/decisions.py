"""What every protection decided on this floor shares (local, reservnummer, a released hold).

The patient row carries the flags every access check reads (``Patient.is_protected`` is
generated from them); the decisions live in their own tables. Each write locks the patient row
first, then the decision, so that two writers on one patient queue instead of deadlocking, and
writes the flags from the decisions in force. Messages name the internal reference only (LEAK-2).
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from patients.identity import contains_identity_number
from patients.models import AccessAction, AccessOutcome, Patient, PatientStatus
from patients.services import Actor, access_entry_record
from protection.gate import AccessContext
from protection.permissions import holds_role_permission
from protection.services import ProtectionError

# The patient's columns that protect them; ``Patient.is_protected`` is generated from these.
PROTECTION_FLAGS = (
    "confidentiality_marking",
    "protected_registration",
    "protection_held",
    "local_protection",
    "reserve_number_protection",
)


def patient_lock(patient_id: int) -> Patient:
    return Patient.objects.select_for_update().get(pk=patient_id)


def flags_apply(patient: Patient, **flags: object) -> Patient:
    """Write the protection flags of a locked patient and return it re-read.

    PROT-3: a deceased patient who is protected never becomes unprotected by a kind ending (a
    local protection lapsing, say): the protection is held until a protection administrator
    records a decision. ``protection.services.holds.protection_hold_release`` is that decision
    and writes the flag itself."""
    still_protected = any(
        bool(flags.get(column, getattr(patient, column))) for column in PROTECTION_FLAGS
    )
    if patient.is_protected and not still_protected and patient.status == PatientStatus.DECEASED:
        flags["protection_held"] = True
    Patient.objects.filter(pk=patient.pk).update(**flags, updated_at=timezone.now())
    patient.refresh_from_db()
    return patient


def change_record(actor: Actor, patient: Patient, object_type: str, object_id: int) -> None:
    """AUDIT-1: a decision about a patient is an access to them."""
    access_entry_record(
        actor=actor,
        action=AccessAction.CHANGE,
        outcome=AccessOutcome.ALLOWED,
        patient=patient,
        object_type=object_type,
        object_id=str(object_id),
    )


def role_require(ctx: AccessContext, perm: str, message: str) -> None:
    if not holds_role_permission(ctx.user, perm):
        raise ProtectionError(message)


def own_unit_require(ctx: AccessContext, unit_id: int) -> None:
    if ctx.actor.unit_id is None or ctx.actor.unit_id != unit_id:
        raise ProtectionError(_("Unit: you can decide only for the unit you work for."))


def reason_check(reason: str) -> str:
    reason = reason.strip()
    if len(reason) < 10:
        raise ProtectionError(_("Reason: state in a few words why the patient needs protection."))
    if contains_identity_number(reason):
        # Read on the unit's page by managers who may hold no grant (LEAK-1).
        raise ProtectionError(_("Reason: do not write the patient's personnummer or name."))
    return reason
