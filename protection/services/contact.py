"""The contact agreement (LEAK-5, PRESC-10): a grant holder who has confirmed the password (the
prescriber, normally) records how a protected person wants to be contacted, and reads it back;
nobody else ever sees it. Each write and each read that returns it is an access entry
(AUDIT-1). For a patient the gate does not guard there is no agreement: staff contact an
ordinary patient as the register says.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patients.identity import contains_identity_number
from patients.models import AccessAction, AccessOutcome, Patient
from patients.presenters import PatientCard
from patients.services import access_entry_record
from protection.gate import AccessContext, Decision
from protection.models import ContactAgreement
from protection.refusals import not_found, patient_answer, refusals_kept
from protection.rls import patient_guard_ids
from protection.services import ProtectionError

PHONE_CHARACTERS = frozenset("0123456789+-() ")


@dataclass(frozen=True)
class ContactPage:
    patient: Patient
    card: PatientCard
    agreement: ContactAgreement | None


def _logged(ctx: AccessContext, patient: Patient, action: AccessAction, agreement_id: int) -> None:
    access_entry_record(
        actor=ctx.actor,
        action=action,
        outcome=AccessOutcome.ALLOWED,
        patient=patient,
        object_type="contact_agreement",
        object_id=str(agreement_id),
    )


def contact_agreement_get_for_user(*, ctx: AccessContext, patient_reference: str) -> ContactPage:
    """The agreement in force, for a grant holder who has confirmed the password; the same
    refusal as the patient page otherwise (not found, or confirm the password), and not found
    for a patient the gate does not guard."""
    answer = patient_answer(ctx, patient_reference)
    if not patient_guard_ids(answer.patient.pk):
        raise not_found()
    agreement = ContactAgreement.objects.filter(
        patient=answer.patient, ended_at__isnull=True
    ).first()
    if agreement is not None:
        _logged(ctx, answer.patient, AccessAction.READ, agreement.pk)
    return ContactPage(patient=answer.patient, card=answer.card, agreement=agreement)


def contact_agreement_for_card(
    *, ctx: AccessContext, patient: Patient, decision: Decision
) -> ContactAgreement | None:
    """The agreement for a page that already asked the gate about ``patient`` (a work order's
    page): only on the gate's full answer; the read is logged."""
    if decision is not Decision.FULL:
        return None
    agreement = ContactAgreement.objects.filter(patient=patient, ended_at__isnull=True).first()
    if agreement is not None:
        _logged(ctx, patient, AccessAction.READ, agreement.pk)
    return agreement


@refusals_kept
@transaction.atomic
def contact_agreement_record(
    *,
    ctx: AccessContext,
    patient_reference: str,
    via_prescriber: bool,
    phone: str = "",
    times: str = "",
) -> ContactAgreement:
    """Record how the protected person wants to be contacted (ending the one in force)."""
    answer = patient_answer(ctx, patient_reference)
    patient = Patient.objects.select_for_update().get(pk=answer.patient.pk)
    if not patient_guard_ids(patient.pk):
        raise ProtectionError(
            _("A contact agreement is only for a patient with protected identity.")
        )
    phone, times = phone.strip(), times.strip()
    if phone and (not set(phone) <= PHONE_CHARACTERS or sum(c.isdigit() for c in phone) < 5):
        raise ProtectionError(
            _("Write the phone number with digits only, for example 070-123 45 67.")
        )
    if contains_identity_number(times):
        raise ProtectionError(_("When to call: do not write a personnummer."))
    if not via_prescriber and not phone:
        raise ProtectionError(
            _("Give a phone number, or choose contact through the prescriber only.")
        )
    ContactAgreement.objects.filter(patient=patient, ended_at__isnull=True).update(
        ended_at=timezone.now()
    )
    agreement = ContactAgreement.objects.create(
        patient=patient,
        recorded_by=ctx.user,
        via_prescriber=via_prescriber,
        phone=phone,
        times=times,
    )
    _logged(ctx, patient, AccessAction.CHANGE, agreement.pk)
    return agreement
