"""Reads of patients for a user. Each read writes its access entry in the same transaction.

Until the protection floor's gate exists, nobody may see a protected patient or a person linked
to one (PROT-5): they get the masked card.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from patients.identity import IdentityNumber
from patients.models import (
    AccessAction,
    AccessOutcome,
    Patient,
    PatientIdentity,
    PatientRelation,
)
from patients.presenters import PatientCard, full_card, masked_card
from patients.services import Actor, access_entry_record


def patient_is_masked(*, patient: Patient, identity: PatientIdentity | None) -> bool:
    """Protected, or linked by the register to someone protected, in either direction."""
    if patient.is_protected:
        return True
    number = identity.personal_identity_number if identity else None
    if (
        number is not None
        and PatientRelation.objects.filter(
            patient__is_protected=True, related_identity_number=number
        ).exists()
    ):
        return True
    return PatientRelation.objects.filter(
        patient_id=patient.pk,
        related_identity_number__in=PatientIdentity.objects.filter(
            patient__is_protected=True
        ).values("personal_identity_number"),
    ).exists()


def _card(patient: Patient, identity: PatientIdentity | None) -> tuple[PatientCard, bool]:
    if identity is None or patient_is_masked(patient=patient, identity=identity):
        return masked_card(patient), True
    return full_card(patient, identity, own_county_code=settings.REGION_COUNTY_CODE), False


@transaction.atomic
def patient_search_for_user(*, actor: Actor, number: IdentityNumber) -> PatientCard | None:
    """Find one patient by identity number. The search term itself is never logged (AUDIT-4)."""
    lookup = (
        {"reserve_number": number.value}
        if number.kind == "reservnummer"
        else {"personal_identity_number": number.value}
    )
    identity = (
        PatientIdentity.objects.select_related("patient", "patient__home_region")
        .filter(**lookup)
        .first()
    )
    if identity is None:
        access_entry_record(actor=actor, action=AccessAction.SEARCH, outcome=AccessOutcome.NO_MATCH)
        return None
    card, masked = _card(identity.patient, identity)
    access_entry_record(
        actor=actor,
        action=AccessAction.SEARCH_HIT,
        outcome=AccessOutcome.DENIED if masked else AccessOutcome.ALLOWED,
        patient=identity.patient,
        object_type="patient",
        object_id=identity.patient.reference,
    )
    return card


@transaction.atomic
def patient_get_for_user(*, actor: Actor, reference: str) -> PatientCard:
    """The patient page's read; raises Patient.DoesNotExist for an unknown reference."""
    patient = Patient.objects.select_related("home_region").get(reference=reference)
    identity = PatientIdentity.objects.filter(patient_id=patient.pk).first()
    card, masked = _card(patient, identity)
    access_entry_record(
        actor=actor,
        action=AccessAction.READ,
        outcome=AccessOutcome.DENIED if masked else AccessOutcome.ALLOWED,
        patient=patient,
        object_type="patient",
        object_id=patient.reference,
    )
    return card
