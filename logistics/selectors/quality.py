"""Reads of deviations (QUAL-1) and incidents (QUAL-2) for the pages.

A deviation's patient is named only as the gate shows them to the reader
(``patient_labels_for_user``, each row logged): a protected patient is "Skyddade
personuppgifter" to everyone without a grant, and staff refer to the deviation by its number
(LEAK-5). An incident names no patient at all: its page and its report are about the device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from django.db.models import QuerySet

from logistics.models import (
    Deviation,
    DeviationState,
    DeviationTransition,
    Incident,
    IncidentState,
    IncidentTransition,
)
from patients.presenters import PatientCard
from protection.gate import AccessContext
from protection.labels import patient_labels_for_user

LIST_LIMIT: Final = 200


@dataclass(frozen=True)
class DeviationRow:
    deviation: Deviation
    # The patient as the gate shows them to this reader; None when it concerns no patient.
    card: PatientCard | None


def _rows(ctx: AccessContext, deviations: list[Deviation]) -> list[DeviationRow]:
    cards = patient_labels_for_user(
        ctx=ctx,
        rows=[(d.patient_id, str(d.pk)) for d in deviations if d.patient_id],
        object_type="deviation",
    )
    return [
        DeviationRow(deviation=d, card=cards.get(d.patient_id) if d.patient_id else None)
        for d in deviations
    ]


def deviations_to_handle(*, ctx: AccessContext) -> list[DeviationRow]:
    """The deviations not yet closed, oldest first: the handlers' list (a fixed number of
    queries whatever its length)."""
    deviations = list(
        Deviation.objects.exclude(state=DeviationState.CLOSED)
        .select_related("reported_by")
        .order_by("reported_at", "pk")[:LIST_LIMIT]
    )
    return _rows(ctx, deviations)


def deviations_to_handle_count() -> int:
    return Deviation.objects.exclude(state=DeviationState.CLOSED).count()


@dataclass(frozen=True)
class DeviationPage:
    row: DeviationRow
    history: list[DeviationTransition]


def deviation_get_for_user(*, ctx: AccessContext, deviation_id: int) -> DeviationPage:
    """One deviation with its history; ``Deviation.DoesNotExist`` for a missing one."""
    deviation = Deviation.objects.select_related("reported_by", "device__article").get(
        pk=deviation_id
    )
    history = list(DeviationTransition.objects.filter(deviation=deviation).select_related("by"))
    return DeviationPage(row=_rows(ctx, [deviation])[0], history=history)


def deviations_of_patient(patient_id: int) -> QuerySet[Deviation]:
    """The deviations about a patient, for the patient's page (whose reader the gate already
    showed the patient to)."""
    return Deviation.objects.filter(patient_id=patient_id).order_by("-reported_at", "-pk")


def incidents_open() -> list[Incident]:
    """The open incidents, oldest first, with their devices (two joins, one query)."""
    return list(
        Incident.objects.filter(state=IncidentState.OPEN)
        .select_related("device__article")
        .order_by("raised_at", "pk")[:LIST_LIMIT]
    )


def incident_open_for_device(device_id: int) -> Incident | None:
    """The open incident keeping this device as evidence, if any (the device card)."""
    return Incident.objects.filter(device_id=device_id, state=IncidentState.OPEN).first()


@dataclass(frozen=True)
class IncidentPage:
    incident: Incident
    history: list[IncidentTransition]


def incident_get(*, incident_id: int) -> IncidentPage:
    """One incident with its device, article and manufacturer, and its history;
    ``Incident.DoesNotExist`` for a missing one."""
    incident = Incident.objects.select_related(
        "device__article__agreement__supplier", "device__owner_region", "raised_by", "work_order"
    ).get(pk=incident_id)
    history = list(IncidentTransition.objects.filter(incident=incident).select_related("by"))
    return IncidentPage(incident=incident, history=history)
