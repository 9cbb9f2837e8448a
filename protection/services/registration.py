"""Patients the register does not give, for users (REG-1..3), above the gate.

The writes are the patients floor's (``patients/registration.py``, ``patients/navet/refresh.py``);
this floor decides who may make them, searches for an existing patient through the gate first
(logged; a protected person is shown masked, as the search page shows them, never as "no
match"), and tells the administration unit of a reservnummer in the product (LEAK-2: the
subject carries the internal reference only, and not even that for a guarded patient).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from patients.identity import IdentityNumber, parse_personal_identity_number
from patients.models import AccessAction, AccessOutcome, Patient
from patients.navet.refresh import LatestExtractLookup, PersonLookup, patient_register_refresh
from patients.registration import (
    HandRegistration,
    RegistrationError,
    another_patients_number,
    identity_numbers_link,
    patient_register_by_hand,
    reserve_number_generate,
)
from patients.services import access_entry_record, notification_send
from protection.gate import AccessContext, GateAnswer, patient_search_for_user
from protection.permissions import users_with_permission
from protection.refusals import patient_answer, refusals_kept
from protection.rls import patient_guard_ids
from protection.services.decisions import role_require

REGISTER_PERMISSION = "patients.register_by_hand"
RESERVE_NUMBER_PERMISSION = "patients.record_reserve_number"
NOTICE_PERMISSION = "patients.receive_reserve_number_notice"
REFRESH_PERMISSION = "patients.refresh_from_register"
# Both pages search by identity number before they write (REG-1, REG-2): whoever uses them
# must be someone who may search, or their answers would tell a person who may not whether a
# number is registered, and whether its patient is protected (ACCESS-1).
SEARCH_PERMISSION = "patients.view_patient"


@dataclass(frozen=True)
class HandRegistrationOutcome:
    """Either the new patient, or the gate's answer for the patient who already has the
    number (full or masked card, as the user may see them): never a second patient."""

    patient: Patient | None = None
    existing: GateAnswer | None = None


@transaction.atomic
def patient_hand_register(*, ctx: AccessContext, data: HandRegistration) -> HandRegistrationOutcome:
    """REG-1: search the number through the gate first; register only when nobody has it."""
    role_require(
        ctx, REGISTER_PERMISSION, _("Only customer service may register a patient by hand.")
    )
    role_require(ctx, SEARCH_PERMISSION, _("Only customer service may register a patient by hand."))
    if data.number is not None:
        existing = patient_search_for_user(ctx, data.number)
        if existing is not None:
            return HandRegistrationOutcome(existing=existing)
    patient = patient_register_by_hand(
        data=data,
        registered_by_id=int(ctx.user.pk),
        reserve_formats=settings.RESERVE_NUMBER_FORMATS,
    )
    access_entry_record(
        actor=ctx.actor,
        action=AccessAction.CHANGE,
        outcome=AccessOutcome.ALLOWED,
        patient=patient,
        object_type="hand_registration",
        object_id=patient.reference,
    )
    if patient.identity.reserve_number is not None:
        _notice_send(patient, unit_name=_unit_name(ctx))
    return HandRegistrationOutcome(patient=patient)


def _unit_name(ctx: AccessContext) -> str:
    profile = getattr(ctx.user, "staff_profile", None)
    unit = getattr(profile, "unit", None)
    return str(unit) if unit is not None else _("no unit")


def _notice_send(patient: Patient, *, unit_name: str) -> None:
    """REG-2: the notice of a reservnummer to the administration unit, in the product.

    It goes to every holder of the notice permission, none of whom needs a grant. So for a
    guarded patient (protected, or linked to a protected person; PROT-5) it names neither the
    patient's reference, the key to their pages, nor the recording unit, the place the person
    is cared at (LEAK-2, ACCESS-1): it only says that the number exists."""
    if patient_guard_ids(patient.pk):
        subject = _("Reservnummer recorded for a patient with protected personal data")
        body = _(
            "A unit recorded a reservnummer for a patient with protected personal data. Only "
            "staff with access to the patient see who it is; this message names no one."
        )
    else:
        subject = _("Reservnummer recorded for patient %(reference)s") % {
            "reference": patient.reference
        }
        body = _(
            "%(unit)s recorded a reservnummer for patient %(reference)s. Open the patient from "
            "the search page to see it; it is linked to the patient's other number, if any."
        ) % {"unit": unit_name, "reference": patient.reference}
    for user in users_with_permission(NOTICE_PERMISSION):
        notification_send(user=user, subject=subject, body=body)


@refusals_kept
def reserve_number_record(
    *,
    ctx: AccessContext,
    patient_reference: str,
    reserve_number: IdentityNumber | None = None,
    personal_number: IdentityNumber | None = None,
    issue: bool = False,
) -> Patient:
    """REG-2: the prescribing unit issues (``issue``, in the region's format) or records a
    reservnummer on a patient it may see in full, or records the personnummer on a patient
    known by a reservnummer; either way one patient holds both numbers. The administration
    unit is told when a reservnummer was added.

    A number typed here is a search by number, as on the search page: it goes through the gate,
    which logs the hit (denied for a patient hidden from the user) or that nobody has it
    (AUDIT-1). That happens before the write's transaction, so the refusal of another patient's
    number does not roll the entry back; the refusal is the same whoever that patient is."""
    role_require(
        ctx,
        RESERVE_NUMBER_PERMISSION,
        _("Only the prescribing unit may issue or record a reservnummer."),
    )
    role_require(
        ctx, SEARCH_PERMISSION, _("Only the prescribing unit may issue or record a reservnummer.")
    )
    patient = patient_answer(ctx, patient_reference).patient
    typed = None if issue else (reserve_number or personal_number)
    if typed is not None:
        holder = patient_search_for_user(ctx, typed)
        if holder is not None and holder.patient.pk != patient.pk:
            raise RegistrationError(another_patients_number(), field="number")
    return _reserve_number_link(
        ctx=ctx,
        patient=patient,
        reserve_number=reserve_number,
        personal_number=personal_number,
        issue=issue,
    )


@transaction.atomic
def _reserve_number_link(
    *,
    ctx: AccessContext,
    patient: Patient,
    reserve_number: IdentityNumber | None,
    personal_number: IdentityNumber | None,
    issue: bool,
) -> Patient:
    if issue:
        # The birth date in a national or VGR reservnummer is the person's, from their number.
        known = patient.identity.personal_identity_number
        birth = parse_personal_identity_number(known).birth_date if known else None
        reserve_number = reserve_number_generate(
            formats=settings.RESERVE_NUMBER_FORMATS, birth_date=birth
        )
    identity_numbers_link(
        patient_id=patient.pk, personal_number=personal_number, reserve_number=reserve_number
    )
    access_entry_record(
        actor=ctx.actor,
        action=AccessAction.CHANGE,
        outcome=AccessOutcome.ALLOWED,
        patient=patient,
        object_type="reserve_number",
        object_id=patient.reference,
    )
    if reserve_number is not None:
        _notice_send(patient, unit_name=_unit_name(ctx))
    return patient


@refusals_kept
@transaction.atomic
def patient_refresh_from_register(
    *, ctx: AccessContext, patient_reference: str, lookup: PersonLookup | None = None
) -> bool:
    """REG-3: customer service refreshes one person from the register now (logged)."""
    role_require(
        ctx, REFRESH_PERMISSION, _("Only customer service may refresh a patient from the register.")
    )
    answer = patient_answer(ctx, patient_reference)
    return patient_register_refresh(
        actor=ctx.actor,
        patient_id=answer.patient.pk,
        lookup=lookup or LatestExtractLookup(Path(settings.NAVET_INBOX_DIR)),
    )
