"""Reads of prescriptions. One access path per kind (house style 5): missing and forbidden get
the same answer; patients are shown through the gate, masked where the user holds no grant."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Final

from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from patients.models import Patient, PatientIdentity
from patients.prepared import PreparedQuery, PreparedTextQuery
from patients.presenters import PatientCard
from prescriptions.models import (
    ConsumablePrescription,
    ConsumableState,
    DeliveryKind,
    EligibilityRecord,
    Prescription,
    PrescriptionLine,
    PrescriptionTransition,
    ReplacementDecision,
    ReplacementOutcome,
)
from prescriptions.services.access import may_act_on
from prescriptions.services.state import OPEN_STATES
from protection.documents.letters import address_lines
from protection.gate import AccessContext
from protection.refusals import not_found, patient_answer
from protection.registry import OpenCase


def prescription_list_for_user(
    *, user: Any, states: list[str] | None = None
) -> QuerySet[Prescription]:
    """My prescriptions, newest first, in one query. ``patient_visible`` is the database's own
    answer (``hjm_identity_visible``, for the user the request runs as: protection.middleware
    sets it) whether the patient's identity may be shown; where it is false, pages show the
    masked label and not even the patient's reference (ACCESS-1)."""
    if not (user.is_authenticated and user.is_active):
        return Prescription.objects.none()
    prescriptions = (
        Prescription.objects.filter(prescriber_id=user.pk)
        .select_related("patient", "unit__unit")
        .annotate(
            patient_visible=RawSQL(
                "hjm_identity_visible(prescriptions_prescription.patient_id)", []
            )
        )
        .order_by("-created_at", "-pk")
    )
    if states:
        prescriptions = prescriptions.filter(state__in=states)
    return prescriptions


@dataclass(frozen=True)
class PrescriptionDetail:
    prescription: Prescription
    card: PatientCard
    lines: list[PrescriptionLine]
    eligibility: EligibilityRecord | None
    pending_replacements: list[ReplacementDecision]
    # Where an ordinary patient's goods go when they go to the registered address: its lines,
    # for a user the gate shows the patient to. Empty for a protected patient (PRESC-2): their
    # goods go to the unit, and their address is never read here.
    delivery_address: tuple[str, ...] = ()


def _registered_address(prescription: Prescription, card: PatientCard) -> tuple[str, ...]:
    if (
        prescription.delivery_kind != DeliveryKind.PATIENT_ADDRESS
        or prescription.patient_protected
        or card.protected
        or card.masked
        # A guardian or relative of a protected patient (PROT-5) likely lives where the
        # protected patient does: their registered address is never shown, the unit's is.
        or card.guarded
    ):
        return ()
    identity = (
        PatientIdentity.objects.filter(patient_id=prescription.patient_id)
        .only("registered_address")
        .first()
    )
    if identity is None or not isinstance(identity.registered_address, dict):
        return ()
    return tuple(address_lines(identity.registered_address))


# The page's own reads, compiled once per process and prepared once per database session
# (``patients.prepared``): only the prescription's number or id changes from one request to the
# next, and building and planning them again was a large part of the page (issue 16).
_PRESCRIPTION: Final = PreparedTextQuery(
    lambda reference: Prescription.objects.select_related(
        "patient", "unit__unit", "prescriber", "episode__home_region", "pickup_point"
    ).filter(reference=reference)
)
_LINES: Final = PreparedQuery(
    lambda prescription_id: (
        PrescriptionLine.objects.filter(prescription_id=prescription_id)
        .select_related("article__product_area", "requested_article")
        .order_by("position")
    )
)
_ELIGIBILITY: Final = PreparedQuery(
    lambda prescription_id: EligibilityRecord.objects.filter(
        prescription_id=prescription_id
    ).order_by("-evaluated_at", "-pk")[:1]
)
_PENDING_REPLACEMENTS: Final = PreparedQuery(
    lambda prescription_id: ReplacementDecision.objects.filter(
        line__prescription_id=prescription_id, outcome=ReplacementOutcome.PENDING
    ).select_related("requested_article", "proposed_article", "line")
)
_HISTORY: Final = PreparedQuery(
    lambda prescription_id: (
        PrescriptionTransition.objects.filter(prescription_id=prescription_id)
        .select_related("by")
        .order_by("at", "pk")
    )
)


def prescription_get_for_user(*, ctx: AccessContext, reference: str) -> PrescriptionDetail:
    """One prescription with its lines, latest eligibility record ("why") and open replacement
    proposals. PatientNotFound (``protection.refusals``) for missing, another unit's, or a masked
    patient's; StepUpRequired for a grant holder who has not confirmed the password."""
    found = _PRESCRIPTION.rows(reference)
    prescription = found[0] if found else None
    if prescription is None or not may_act_on(ctx.user, prescription):
        raise not_found()
    answer = patient_answer(ctx, prescription.patient.reference)
    lines = _LINES.rows(prescription.pk)
    for line in lines:
        # As ``prescription.lines`` would give them: each knows its prescription.
        line.prescription = prescription
    eligibility = _ELIGIBILITY.rows(prescription.pk)
    return PrescriptionDetail(
        prescription=prescription,
        card=answer.card,
        lines=lines,
        eligibility=eligibility[0] if eligibility else None,
        pending_replacements=_PENDING_REPLACEMENTS.rows(prescription.pk),
        delivery_address=_registered_address(prescription, answer.card),
    )


def prescription_history(prescription: Prescription) -> list[PrescriptionTransition]:
    """The prescription's state changes, the oldest first, with who made each."""
    history = _HISTORY.rows(prescription.pk)
    for transition in history:
        transition.prescription = prescription
    return history


@dataclass(frozen=True)
class PatientPrescriptions:
    card: PatientCard  # the gate's card: pages about a protected patient print only a notice
    prescriptions: list[Prescription]
    # The patient the gate opened, for the page's other reads of the same patient.
    patient: Patient


def prescription_list_for_patient(
    *, ctx: AccessContext, patient_reference: str
) -> PatientPrescriptions:
    """A patient's prescriptions in every unit, for the patient page; only for a user the gate
    shows the patient to (the same not-found answer otherwise)."""
    answer = patient_answer(ctx, patient_reference)
    prescriptions = list(
        Prescription.objects.filter(patient=answer.patient)
        .select_related("unit__unit", "prescriber")
        .prefetch_related(
            Prefetch("lines", queryset=PrescriptionLine.objects.select_related("article"))
        )
        .order_by("-created_at", "-pk")
    )
    return PatientPrescriptions(
        card=answer.card, prescriptions=prescriptions, patient=answer.patient
    )


@dataclass(frozen=True)
class AcceptanceRate:
    proposed: int
    accepted: int
    declined: int
    pending: int
    automatic: int

    @property
    def rate(self) -> float | None:
        decided = self.accepted + self.declined
        return self.accepted / decided if decided else None


def replacement_acceptance_rate(
    *, since: datetime.datetime | None = None, until: datetime.datetime | None = None
) -> AcceptanceRate:
    """KPI-2: of the replacements proposed to prescribers (optional groups), the share they
    accepted; fixed-group substitutions are counted apart (nobody was asked). One query."""
    decisions = ReplacementDecision.objects.all()
    if since is not None:
        decisions = decisions.filter(proposed_at__gte=since)
    if until is not None:
        decisions = decisions.filter(proposed_at__lt=until)
    counts = decisions.aggregate(
        accepted=Count("pk", filter=Q(outcome=ReplacementOutcome.ACCEPTED)),
        declined=Count("pk", filter=Q(outcome=ReplacementOutcome.DECLINED)),
        pending=Count("pk", filter=Q(outcome=ReplacementOutcome.PENDING)),
        automatic=Count("pk", filter=Q(outcome=ReplacementOutcome.AUTOMATIC)),
    )
    return AcceptanceRate(
        proposed=counts["accepted"] + counts["declined"] + counts["pending"],
        accepted=counts["accepted"],
        declined=counts["declined"],
        pending=counts["pending"],
        automatic=counts["automatic"],
    )


def unit_has_open_prescription(patient_id: int, unit_id: int) -> bool:
    """For protection.registry (ACCESS-8): a prescription of the unit for the patient still
    waits for something, or a consumable prescription of the unit is in force: its
    withdrawals come one at a time, and the unit must not lose the patient between two."""
    if Prescription.objects.filter(
        patient_id=patient_id, unit_id=unit_id, state__in=OPEN_STATES
    ).exists():
        return True
    return ConsumablePrescription.objects.filter(
        patient_id=patient_id,
        unit_id=unit_id,
        state=ConsumableState.ACTIVE,
        valid_to__gte=timezone.localdate(),
    ).exists()


def prescriptions_open_elsewhere(patient: Patient, exclude_unit_id: int | None) -> list[OpenCase]:
    """For protection.registry: the patient's open prescriptions in other units, shown to the
    protection administrator deciding a grant (ACCESS-3). Numbers and unit names only."""
    rows = Prescription.objects.filter(patient=patient, state__in=OPEN_STATES).select_related(
        "unit__unit"
    )
    if exclude_unit_id is not None:
        rows = rows.exclude(unit_id=exclude_unit_id)
    return [
        OpenCase(unit_name=row.unit.unit.name, reference=row.reference, kind="prescription")
        for row in rows.order_by("created_at", "pk")
    ]
