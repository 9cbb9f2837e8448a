"""Deviations (QUAL-1) and medical-device incidents (QUAL-2): reporting, handling and closing.

A deviation's patient is resolved only through the gate: a reporter who may not see the patient
they name reports the deviation without the person (*ej person*), and which patient it was is
not recorded; a user the gate shows the patient to attaches it later, from the patient's page.
An incident keeps its device as evidence until it is closed (the evidence trigger of migration
0010 and ``logistics.services.state.device_move`` refuse the moves); its report to the
manufacturer and Läkemedelsverket names no patient, and the sending to each is recorded.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Final

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.models import (
    Deviation,
    DeviationState,
    DeviationTransition,
    Device,
    Incident,
    IncidentRecipient,
    IncidentState,
    IncidentTransition,
    WorkOrder,
)
from logistics.services.errors import LogisticsError, StateNotAllowed
from logistics.services.state import device_note
from patients.identity import IdentityNumberError, parse_identity_number
from patients.models import AccessAction, AccessOutcome
from patients.services import access_entry_record
from patients.transitions import (
    CREATED,
    StateMachine,
    history_record,
    transition_apply,
    transition_created,
)
from protection.freetext import free_text_refusal
from protection.gate import AccessContext, Decision, patient_search_for_user
from protection.permissions import holds_role_permission
from protection.refusals import patient_answer, refusals_kept

DV = DeviationState
IS = IncidentState
# Who may search patients (the patient search page's permission).
SEARCH_PATIENTS: Final = "patients.view_patient"


class QualityFieldError(LogisticsError):
    """A refusal about one field of the form (``field``), with the message to show."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _deviation_refused(deviation: Deviation, from_state: str, to_state: str) -> Exception:
    return StateNotAllowed(
        _("Deviation %(number)s is %(state)s and cannot become %(to)s.")
        % {"number": deviation.number, "state": DV(from_state).label, "to": DV(to_state).label}
    )


def _incident_refused(incident: Incident, from_state: str, to_state: str) -> Exception:
    return StateNotAllowed(
        _("Incident %(number)s is already closed.") % {"number": incident.number}
    )


DEVIATION_MACHINE: Final = StateMachine(
    name="deviation",
    moves={
        CREATED: frozenset({DV.REPORTED}),
        DV.REPORTED: frozenset({DV.INVESTIGATING, DV.CLOSED}),
        DV.INVESTIGATING: frozenset({DV.CLOSED}),
        DV.CLOSED: frozenset(),
    },
    history_model=DeviationTransition,
    subject_field="deviation",
    refuse=_deviation_refused,
)

INCIDENT_MACHINE: Final = StateMachine(
    name="incident",
    moves={CREATED: frozenset({IS.OPEN}), IS.OPEN: frozenset({IS.CLOSED}), IS.CLOSED: frozenset()},
    history_model=IncidentTransition,
    subject_field="incident",
    refuse=_incident_refused,
)


@dataclass(frozen=True)
class DeviationReported:
    deviation: Deviation
    # QUAL-1: the reporter named a patient the gate did not show them: saved without the person.
    without_person: bool


@refusals_kept
@transaction.atomic
def deviation_report(
    *,
    ctx: AccessContext,
    category: str,
    description: str,
    order_number: str = "",
    serial_number: str = "",
    patient_number: str = "",
) -> DeviationReported:
    """QUAL-1: anyone reports a deviation. The patient, when named by identity number, is
    looked up through the gate (the search is logged); attached only when the gate shows the
    patient to the reporter in full, else the deviation is saved without the person."""
    patient = None
    masked_patient_id: int | None = None
    if patient_number.strip():
        try:
            number = parse_identity_number(
                patient_number, reserve_formats=settings.RESERVE_NUMBER_FORMATS
            )
        except IdentityNumberError as exc:
            raise QualityFieldError("patient_number", str(exc.message)) from None
        answer = patient_search_for_user(ctx, number)
        if not holds_role_permission(ctx.user, SEARCH_PATIENTS):
            # Someone who may not search patients gets one answer whatever the number: saved
            # without the person. Otherwise the form would tell them whether a personnummer
            # exists and whether it is protected, which patient search would not (LEAK-1).
            # The search still ran: it is logged, and the description is checked against the
            # patient it found.
            masked_patient_id = answer.patient.pk if answer is not None else 0
        elif answer is None:
            raise QualityFieldError(
                "patient_number",
                _("No patient has this number. Check it, or leave the field empty."),
            )
        elif answer.decision is Decision.STEP_UP:
            # A grant holder who has not confirmed the password: they may name the person, so
            # they are asked to confirm rather than have it saved without the person.
            raise QualityFieldError(
                "patient_number",
                _(
                    "Confirm your password to name this patient, then send the report again; "
                    "or leave the field empty."
                ),
            )
        elif answer.decision is Decision.FULL:
            patient = answer.patient
        else:
            masked_patient_id = answer.patient.pk
    refusal = free_text_refusal(
        description,
        field=_("What happened"),
        patient_ids=[pk for pk in (masked_patient_id, patient and patient.pk) if pk],
    )
    if refusal:
        raise QualityFieldError("description", refusal)
    serial = serial_number.strip()
    devices = list(Device.objects.filter(serial_number=serial)[:2]) if serial else []
    deviation = Deviation.objects.create(
        category=category,
        description=description.strip(),
        order_number=order_number.strip().upper(),
        serial_number=serial,
        device=devices[0] if len(devices) == 1 else None,
        patient=patient,
        without_person=masked_patient_id is not None,
        reported_by=ctx.user,
    )
    transition_created(machine=DEVIATION_MACHINE, obj=deviation, by=ctx.user)
    return DeviationReported(deviation=deviation, without_person=masked_patient_id is not None)


def _deviation_locked(deviation_id: int) -> Deviation:
    deviation = Deviation.objects.select_for_update().filter(pk=deviation_id).first()
    if deviation is None:
        raise LogisticsError(_("No such deviation."))
    return deviation


@transaction.atomic
def deviation_move(*, by: Any, deviation_id: int, to_state: str, conclusion: str = "") -> Deviation:
    """Quality staff take a deviation under investigation, or close it with a conclusion."""
    deviation = _deviation_locked(deviation_id)
    conclusion = conclusion.strip()
    if to_state == DV.CLOSED and not conclusion:
        raise QualityFieldError(
            "conclusion", _("Conclusion: write what was found and done before closing.")
        )
    fields: dict[str, Any] = {"conclusion": conclusion} if to_state == DV.CLOSED else {}
    transition_apply(machine=DEVIATION_MACHINE, obj=deviation, to_state=to_state, by=by, **fields)
    return deviation


@refusals_kept
@transaction.atomic
def deviation_attach_patient(
    *, ctx: AccessContext, deviation_number: str, patient_reference: str
) -> Deviation:
    """QUAL-1: a user the gate shows the patient to (a grant holder, stepped up) attaches a
    deviation reported without the person. The gate's read is logged, and the change too; the
    deviation's history says it was attached, never to whom."""
    answer = patient_answer(ctx, patient_reference)
    number = deviation_number.strip().upper()
    pk = int(number.removeprefix("AVV-")) if number.removeprefix("AVV-").isdigit() else None
    deviation = Deviation.objects.select_for_update().filter(pk=pk).first() if pk else None
    if deviation is None:
        raise QualityFieldError(
            "deviation_number", _("No deviation has this number. Check it (AVV- and six digits).")
        )
    if deviation.patient_id is not None:
        raise QualityFieldError(
            "deviation_number",
            _("Deviation %(number)s already concerns a patient.") % {"number": deviation.number},
        )
    Deviation.objects.filter(pk=deviation.pk).update(patient=answer.patient)
    deviation.patient = answer.patient
    access_entry_record(
        actor=ctx.actor,
        action=AccessAction.CHANGE,
        outcome=AccessOutcome.ALLOWED,
        patient=answer.patient,
        object_type="deviation",
        object_id=str(deviation.pk),
    )
    history_record(
        machine=DEVIATION_MACHINE,
        obj=deviation,
        from_state=deviation.state,
        to_state=deviation.state,
        by=ctx.user,
        note=_("Attached to the patient by a user with access"),
    )
    return deviation


@transaction.atomic
def incident_raise(
    *,
    by: Any,
    device_id: int,
    occurred_on: datetime.date,
    description: str,
    work_order_number: str = "",
) -> Incident:
    """QUAL-2: a medical-device incident on a device, from its card or from one of its work
    orders (by number). The device is kept as evidence from now on; its card says so."""
    device = Device.objects.select_for_update().filter(pk=device_id).first()
    if device is None:
        raise LogisticsError(_("No such device."))
    if occurred_on > timezone.localdate():
        raise QualityFieldError("occurred_on", _("Date of the event: it cannot be in the future."))
    refusal = free_text_refusal(
        description,
        field=_("What happened"),
        patient_ids=[device.holder_patient_id] if device.holder_patient_id else [],
    )
    if refusal:
        raise QualityFieldError("description", refusal)
    work_order = None
    if work_order_number.strip():
        work_order = WorkOrder.objects.filter(
            number=work_order_number.strip().upper(), device_id=device.pk
        ).first()
        if work_order is None:
            raise QualityFieldError(
                "work_order_number",
                _("Work order number: no work order of device %(serial)s has this number.")
                % {"serial": device.serial_number},
            )
    incident = Incident.objects.create(
        device=device,
        occurred_on=occurred_on,
        description=description.strip(),
        work_order=work_order,
        raised_by=by,
    )
    transition_created(machine=INCIDENT_MACHINE, obj=incident, by=by)
    device_note(
        device=device,
        by=by,
        note=_("Incident %(number)s: kept as evidence") % {"number": incident.number},
    )
    return incident


def _incident_locked(incident_id: int) -> Incident:
    incident = (
        Incident.objects.select_for_update().select_related("device").filter(pk=incident_id)
    ).first()
    if incident is None:
        raise LogisticsError(_("No such incident."))
    return incident


@transaction.atomic
def incident_report_sent(*, by: Any, incident_id: int, recipient: str) -> Incident:
    """The report was sent to the manufacturer or to Läkemedelsverket: when, and by whom (a
    history row). Sent once to each; a second record is refused."""
    incident = _incident_locked(incident_id)
    field = (
        "sent_to_manufacturer_at"
        if recipient == IncidentRecipient.MANUFACTURER
        else "sent_to_agency_at"
    )
    label = IncidentRecipient(recipient).label
    if getattr(incident, field) is not None:
        raise StateNotAllowed(
            _("The report was already recorded as sent to %(recipient)s.") % {"recipient": label}
        )
    now = timezone.now()
    Incident.objects.filter(pk=incident.pk).update(**{field: now})
    setattr(incident, field, now)
    history_record(
        machine=INCIDENT_MACHINE,
        obj=incident,
        from_state=incident.state,
        to_state=incident.state,
        by=by,
        note=_("Report sent to %(recipient)s") % {"recipient": label},
    )
    return incident


@transaction.atomic
def incident_close(*, by: Any, incident_id: int, conclusion: str) -> Incident:
    """The incident is closed with a conclusion: the device is released (the evidence trigger
    lets it move again) and its card says so."""
    incident = _incident_locked(incident_id)
    conclusion = conclusion.strip()
    if not conclusion:
        raise QualityFieldError(
            "conclusion", _("Conclusion: write what the investigation found before closing.")
        )
    transition_apply(
        machine=INCIDENT_MACHINE, obj=incident, to_state=IS.CLOSED, by=by, conclusion=conclusion
    )
    device_note(
        device=incident.device,
        by=by,
        note=_("Incident %(number)s closed: released") % {"number": incident.number},
    )
    return incident
