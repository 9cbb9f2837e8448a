"""Reads for the out-of-region and protected-delivery pages (REGION-3, REGION-5, LEAK-3).

Everything goes through ``prescription_get_for_user`` or ``protection.gate`` first: a masked
patient is not found, a grant holder who has not confirmed the password is sent to step-up.
Each read of a registration or a special delivery agreement is an access entry of its own
(AUDIT-1), carrying the internal ids only (AUDIT-4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from patients.models import AccessAction, AccessOutcome, Patient, PatientIdentity
from patients.presenters import PatientCard
from patients.services import access_entry_record
from prescriptions.models import (
    CareEpisode,
    CountryGroup,
    RegistrationState,
    ResidenceAbroad,
    SpecialDeliveryAgreement,
    SupplyRegistration,
)
from prescriptions.selectors.prescription import PrescriptionDetail, prescription_get_for_user
from prescriptions.services.access import patient_guarded
from protection.gate import AccessContext
from protection.refusals import not_found, patient_answer


def _read_logged(ctx: AccessContext, patient: Patient, object_type: str, object_id: int) -> None:
    access_entry_record(
        actor=ctx.actor,
        action=AccessAction.READ,
        outcome=AccessOutcome.ALLOWED,
        patient=patient,
        object_type=object_type,
        object_id=str(object_id),
    )


@dataclass(frozen=True)
class RegistrationPage:
    detail: PrescriptionDetail
    registration: SupplyRegistration | None
    # What the product knows, for the form: the register's name and address (none for a
    # protected patient, LEAK-3) and the identity number shown, never typed.
    identity_number: str
    prefill: dict[str, str]
    # The live guard (PROT-5 included), not the order's snapshot: the page hides the address
    # fields for a guarded patient.
    protected: bool


def supply_registration_get_for_user(*, ctx: AccessContext, reference: str) -> RegistrationPage:
    """REGION-3: the prescription's registration with customer service, if any, and what the
    register knows for a new one. Same not-found and step-up answers as the prescription."""
    detail = prescription_get_for_user(ctx=ctx, reference=reference)
    prescription = detail.prescription
    registration = (
        SupplyRegistration.objects.filter(episode_id=prescription.episode_id)
        .exclude(state=RegistrationState.DEACTIVATED)
        .select_related("cleared_by")
        .first()
    )
    if registration is not None:
        _read_logged(ctx, prescription.patient, "supply_registration", registration.pk)
    card: PatientCard = detail.card
    prefill: dict[str, str] = {"name": card.name}
    # The live guard, not the order's snapshot: the re-routing task may not have run yet.
    protected = patient_guarded(prescription.patient_id)
    if not protected:
        # The gate has answered "full" for this patient: its identity row is open to the user.
        identity = PatientIdentity.objects.filter(patient_id=prescription.patient_id).first()
        address: dict[str, Any] = (identity.registered_address or {}) if identity else {}
        street = " ".join(
            str(address.get(key) or "") for key in ("street1", "street2") if address.get(key)
        )
        prefill.update(
            care_of=str(address.get("care_of") or ""),
            street=street,
            postal_code=str(address.get("postal_code") or ""),
            town=str(address.get("city") or ""),
            phone=str(identity.phone or "") if identity else "",
        )
    return RegistrationPage(
        detail=detail,
        registration=registration,
        identity_number=card.identity_number,
        prefill=prefill,
        protected=protected,
    )


@dataclass(frozen=True)
class PatientResidences:
    card: PatientCard  # the gate's card: the page is headed by the patient, name first
    residences: list[ResidenceAbroad]


def residences_abroad_for_patient(
    *, ctx: AccessContext, patient_reference: str
) -> PatientResidences:
    """REGION-5: the patient's recorded residences abroad, one per open care episode, through
    the gate. One query after the gate's."""
    answer = patient_answer(ctx, patient_reference)
    return PatientResidences(
        card=answer.card,
        residences=list(
            ResidenceAbroad.objects.filter(
                episode__patient=answer.patient, episode__closed_at__isnull=True
            ).select_related("episode__unit__unit", "last_registered_region")
        ),
    )


@dataclass(frozen=True)
class PatientAgreement:
    card: PatientCard  # the gate's card: the page is headed by the patient, name first
    agreement: SpecialDeliveryAgreement | None


def special_delivery_agreement_get_for_user(
    *, ctx: AccessContext, patient_reference: str
) -> PatientAgreement:
    """LEAK-3: the agreement in force with its content, for a grant holder who has confirmed
    the password; each read that returns it is an access entry. Not found / step-up as the
    patient's pages."""
    answer = patient_answer(ctx, patient_reference)
    patient = answer.patient
    if not patient_guarded(patient.pk):
        # An agreement exists only for a guarded patient (protected, or linked to a protected
        # person, PROT-5; the same test as when it is recorded): no page for anyone else.
        raise not_found()
    agreement = SpecialDeliveryAgreement.objects.filter(
        patient=patient, ended_at__isnull=True
    ).first()
    if agreement is not None:
        _read_logged(ctx, patient, "special_delivery_agreement", agreement.pk)
    return PatientAgreement(card=answer.card, agreement=agreement)


def region_is_another(region_id: str | None) -> bool:
    """REGION-1: a home region that is not this region's own (an unknown one counts as own)."""
    return region_id is not None and region_id != settings.REGION_COUNTY_CODE


def out_of_region(episode: CareEpisode) -> bool:
    """REGION-1: the patient is out of region for this care episode: the home region, read from
    the register when the episode started and kept for it, is another region's. The one answer
    for the services, the pages and their templates."""
    return region_is_another(episode.home_region_id)


def tied_region_id(residence: ResidenceAbroad | None) -> str | None:
    """REGION-5: the region a Swede abroad outside the EU/EEA and the Nordics is tied to (the one
    last registered in), or None for everyone else."""
    if (
        residence is None
        or residence.country_group != CountryGroup.OTHER
        or not residence.swedish_citizen
    ):
        return None
    return residence.last_registered_region_id


def paying_region_id(episode: CareEpisode, residence: ResidenceAbroad | None) -> str | None:
    """REGION-1 with REGION-5: the home region that pays for the episode: the region a Swede
    abroad is tied to, else the episode's home region."""
    return tied_region_id(residence) or episode.home_region_id
