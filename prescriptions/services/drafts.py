"""The care episode and the draft: starting one, and the need, urgency and fitting note.

Every service is keyword-only and atomic; it locks the prescription, then checks, then writes
(house style 3). Delivery is computed by ``services.delivery`` (PRESC-2), never typed.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from patients.models import Patient
from patients.transitions import transition_created
from prescriptions.models import CareEpisode, DeliveryKind, Prescription, Urgency
from prescriptions.services.access import (
    acting_unit_id,
    patient_for_prescribing,
    prescriber_profile_for,
)
from prescriptions.services.delivery import delivery_compute, free_text_check, presc2_enforced
from prescriptions.services.errors import PrescriptionError
from prescriptions.services.ordering_right import ordering_right
from prescriptions.services.state import PRESCRIPTION_MACHINE, prescription_draft_for_update
from protection.gate import AccessContext
from protection.refusals import refusals_kept


def care_episode_open(*, patient: Patient, unit_id: int) -> CareEpisode:
    """The patient's open episode at the unit, or a new one. REGION-1: the home region is the
    register's when the episode starts, and stays with the episode."""
    episode = (
        CareEpisode.objects.select_for_update()
        .filter(patient=patient, unit_id=unit_id, closed_at__isnull=True)
        .first()
    )
    if episode is None:
        episode = CareEpisode.objects.create(
            patient=patient, unit_id=unit_id, home_region_id=patient.home_region_id
        )
    return episode


def prescription_draft_create(
    *, patient: Patient, prescriber: Any, unit_id: int, entered_by: Any | None = None
) -> Prescription:
    """A new draft for a patient the caller has already opened and locked, with its first
    history row; ``entered_by`` is customer service entering a phone order for ``prescriber``.
    The caller has checked the ordering right (PRESC-5)."""
    episode = care_episode_open(patient=patient, unit_id=unit_id)
    prescription = Prescription(
        patient=patient,
        episode=episode,
        prescriber=prescriber,
        unit_id=unit_id,
        delivery_kind=DeliveryKind.PATIENT_ADDRESS,  # delivery_compute decides (PRESC-2)
        entered_by=entered_by,
        phone_order=entered_by is not None,
    )
    delivery_compute(prescription=prescription, patient=patient)
    with presc2_enforced(prescription):
        prescription.save()
    transition_created(machine=PRESCRIPTION_MACHINE, obj=prescription, by=entered_by or prescriber)
    return prescription


@refusals_kept
@transaction.atomic
def prescription_draft_start(
    *, ctx: AccessContext, patient_reference: str, unit_id: int | None = None
) -> Prescription:
    """Start a draft for a patient at one of the prescriber's units (opening the care episode if
    needed, REGION-1). Raises ``PatientNotFound`` for a patient the user may not see."""
    profile = prescriber_profile_for(ctx.user)
    ordering_right(profile).check()
    unit = acting_unit_id(ctx.user, profile, unit_id)
    patient = patient_for_prescribing(ctx, patient_reference)
    return prescription_draft_create(patient=patient, prescriber=ctx.user, unit_id=unit)


@refusals_kept
@transaction.atomic
def prescription_details_set(
    *,
    ctx: AccessContext,
    reference: str,
    need: str | None = None,
    urgency: str | None = None,
    fitting_note: str | None = None,
) -> Prescription:
    """The need the prescription meets, its urgency and the fitting note (draft only)."""
    prescription = prescription_draft_for_update(ctx=ctx, reference=reference)
    if need is not None:
        prescription.need = free_text_check(_("Need"), need, patient_id=prescription.patient_id)
    if urgency is not None:
        prescription.urgency = urgency_checked(urgency)
    if fitting_note is not None:
        prescription.fitting_note = free_text_check(
            _("Fitting note"), fitting_note, patient_id=prescription.patient_id
        )
    prescription.save(update_fields=["need", "urgency", "fitting_note"])
    return prescription


def urgency_checked(urgency: str) -> str:
    """The urgency if it is one the product knows (the pages and phone orders both ask)."""
    if urgency not in Urgency.values:
        raise PrescriptionError(_("Urgency: choose normal or urgent."))
    return urgency
