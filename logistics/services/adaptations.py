"""PRESC-6 (seed 004, digital signing): the special adaptation's signing request, its signature
with the functional risk assessment, its decline, the paper signature, and the reminders.

The technician sends the request from the work order with the adaptation document; the
prescriber signs in the product after confirming the password (step-up, ACCESS-4) or declines
with a reason, which goes back to the technician. A signature files the document and the risk
assessment with the device as an immutable record and frees the device to be delivered
(``Device.adaptation_unsigned_since``, checked here and by the database).

LEAK-5: notifications name the work order number only, never the patient.
"""

from __future__ import annotations

import base64
import datetime
from typing import Any, Final

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from logistics.models import (
    ADAPTATION_BLOCKED_STATUSES,
    AdaptationRecord,
    AdaptationRisk,
    AdaptationSigningRequest,
    AdaptationSigningTransition,
    Device,
    DeviceStatus,
    RiskConclusion,
    SigningMethod,
    SigningState,
    WorkOrder,
    WorkOrderKind,
    WorkOrderState,
)
from logistics.models.adaptations import ADAPTATION_DOCUMENT_MAX_BYTES
from logistics.services.errors import LogisticsError, StateNotAllowed
from logistics.services.state import device_adaptation_mark, device_note
from logistics.services.workorders import work_order_guarded, work_order_transition
from patients.identity import contains_identity_number
from patients.models import AccessAction, Patient
from patients.services import notification_send
from patients.transitions import StateMachine, transition_apply, transition_created
from prescriptions.services.region import document_type_read
from protection.documents.services.ban import REFUSED_PROTECTED, DocumentRefused
from protection.gate import AccessContext
from protection.refusals import Denial, PatientNotFound, StepUpRequired, refusals_kept

SS = SigningState
CREATED: Final = ""
# A signing request is valid this long unless the technician chooses another day.
DEFAULT_VALIDITY: Final = datetime.timedelta(days=30)
# How often an open request is reminded about.
REMINDER_INTERVAL: Final = datetime.timedelta(days=1)
# Where a special adaptation may be when its request is sent: being made, not finished.
SENDABLE_STATES: Final = frozenset(
    {WorkOrderState.ASSIGNED, WorkOrderState.IN_PROGRESS, WorkOrderState.REGISTERED}
)


def _request_refused(
    request: AdaptationSigningRequest, from_state: str, to_state: str
) -> Exception:
    return StateNotAllowed(
        _("The signing request for work order %(number)s is %(state)s.")
        % {"number": request.work_order.number, "state": SS(from_state).label}
    )


SIGNING_MACHINE: Final = StateMachine(
    name="signing request",
    moves={
        CREATED: frozenset({SS.SENT}),
        SS.SENT: frozenset({SS.SIGNED, SS.DECLINED, SS.SIGNED_ON_PAPER}),
        SS.SIGNED: frozenset(),
        SS.DECLINED: frozenset(),
        SS.SIGNED_ON_PAPER: frozenset(),
    },
    history_model=AdaptationSigningTransition,
    subject_field="request",
    refuse=_request_refused,
)


class AdaptationNotFound(PatientNotFound):
    """Missing, or not the user's to sign: the same answer (house style 5)."""


def document_checked(content: bytes, *, pdf_only: bool) -> str:
    """The document's content type read from its content (never the upload's word), within the
    size limit; a refusal the user can act on otherwise."""
    if not content:
        raise LogisticsError(_("Document: choose the file to upload."))
    if len(content) > ADAPTATION_DOCUMENT_MAX_BYTES:
        raise LogisticsError(
            _("Document: the file is larger than %(mb)s MB.")
            % {"mb": ADAPTATION_DOCUMENT_MAX_BYTES // (1024 * 1024)}
        )
    content_type = document_type_read(content)
    if content_type is None or (pdf_only and content_type != "application/pdf"):
        raise LogisticsError(
            _(
                "Document: the file is not a PDF that can be opened. Save it as a PDF and "
                "upload it again."
            )
            if pdf_only
            else _(
                "Document: the file is not a PDF, JPEG or PNG that can be opened. Scan it again."
            )
        )
    return content_type


def _adaptation_locked(work_order_id: int) -> WorkOrder:
    work_order = (
        WorkOrder.objects.select_for_update(of=("self",))
        .select_related("device")
        .filter(pk=work_order_id)
        .first()
    )
    if work_order is None:
        raise LogisticsError(_("There is no such work order."))
    if work_order.kind != WorkOrderKind.SPECIAL_ADAPTATION:
        raise StateNotAllowed(
            _("Work order %(number)s is no special adaptation: it needs no signature.")
            % {"number": work_order.number}
        )
    if work_order.device_id is None or work_order.prescriber_id is None:
        raise StateNotAllowed(
            _(
                "Work order %(number)s names no device or no prescriber: complete it before "
                "asking for a signature."
            )
            % {"number": work_order.number}
        )
    return work_order


@transaction.atomic
def signing_request_send(
    *,
    work_order_id: int,
    document: bytes,
    valid_until: datetime.date | None,
    by: Any,
) -> AdaptationSigningRequest:
    """The technician attaches the adaptation document (a PDF) and sends the signing request to
    the work order's prescriber; the work order waits for the signature."""
    work_order = _adaptation_locked(work_order_id)
    today = timezone.localdate()
    valid_until = valid_until or today + DEFAULT_VALIDITY
    if valid_until <= today:
        raise LogisticsError(_("Valid until: choose a day after today."))
    if work_order.state not in SENDABLE_STATES:
        raise StateNotAllowed(
            _("Work order %(number)s is %(state)s: no signing request can be sent.")
            % {"number": work_order.number, "state": WorkOrderState(work_order.state).label}
        )
    if AdaptationSigningRequest.objects.filter(work_order=work_order, state=SS.SENT).exists():
        raise StateNotAllowed(
            _("Work order %(number)s already has a signing request awaiting signature.")
            % {"number": work_order.number}
        )
    device = work_order.device
    assert device is not None
    if device.status in ADAPTATION_BLOCKED_STATUSES:
        # The mark would contradict where the device is: it is adapted in the workshop.
        raise StateNotAllowed(
            _(
                "Device %(serial)s is %(status)s: take it in to the workshop before its "
                "adaptation is sent for signature."
            )
            % {"serial": device.serial_number, "status": DeviceStatus(device.status).label}
        )
    content_type = document_checked(document, pdf_only=True)
    assert work_order.device_id is not None
    assert work_order.prescriber_id is not None
    request = AdaptationSigningRequest.objects.create(
        work_order=work_order,
        device_id=work_order.device_id,
        prescriber_id=work_order.prescriber_id,
        valid_until=valid_until,
        sent_by=by,
        document_content_type=content_type,
        document_size=len(document),
        document=base64.b64encode(document).decode("ascii"),
    )
    transition_created(machine=SIGNING_MACHINE, obj=request, by=by)
    device_adaptation_mark(device_id=work_order.device_id)
    if work_order.state != WorkOrderState.IN_PROGRESS:
        work_order_transition(
            work_order_id=work_order.pk, to_state=WorkOrderState.IN_PROGRESS, by=by
        )
    work_order_transition(
        work_order_id=work_order.pk,
        to_state=WorkOrderState.WAITING_FOR_SIGNATURE,
        by=by,
        note="PRESC-6",
    )
    work_order.refresh_from_db(fields=["state"])
    notification_send(
        user=request.prescriber,
        subject=_("Signing request for work order %(number)s") % {"number": work_order.number},
        body=_(
            "A specially adapted device on work order %(number)s waits for your risk assessment "
            "and signature. The request is valid until %(day)s. Open Att signera on the start "
            "page."
        )
        % {"number": work_order.number, "day": date_format(valid_until, "Y-m-d")},
    )
    return request


def _request_for_prescriber(ctx: AccessContext, request_id: int) -> AdaptationSigningRequest:
    request = (
        AdaptationSigningRequest.objects.select_for_update(of=("self",))
        .select_related("work_order", "device")
        .filter(pk=request_id, prescriber_id=ctx.user.pk)
        .first()
    )
    if request is None:
        raise AdaptationNotFound(_("No such signing request."))
    if request.state != SS.SENT:
        raise StateNotAllowed(
            _("The signing request for work order %(number)s is %(state)s.")
            % {"number": request.work_order.number, "state": SS(request.state).label}
        )
    return request


def _free_text(label: str, value: str) -> str:
    value = value.strip()
    if contains_identity_number(value):
        raise LogisticsError(_("%(field)s: do not write a personnummer.") % {"field": label})
    return value


def _adaptation_file(
    *,
    request: AdaptationSigningRequest | None,
    work_order: WorkOrder,
    method: str,
    signed_by_id: int,
    signed_on: datetime.date,
    content_type: str,
    document: str,
    size: int,
    by: Any,
    risks: list[str] | None = None,
    conclusion: str = "",
    measures: str = "",
) -> AdaptationRecord:
    """File the signed adaptation with the device and free the device (PRESC-6)."""
    assert work_order.device_id is not None
    record = AdaptationRecord.objects.create(
        device_id=work_order.device_id,
        work_order=work_order,
        request=request,
        method=method,
        signed_by_id=signed_by_id,
        signed_on=signed_on,
        risks_considered=risks or [],
        conclusion=conclusion,
        measures=measures,
        recorded_by=by,
        document_content_type=content_type,
        document_size=size,
        document=document,
    )
    device = Device.objects.select_for_update().get(pk=work_order.device_id)
    Device.objects.filter(pk=device.pk).update(adaptation_unsigned_since=None)
    device_note(
        device=device,
        by=by,
        note=_("Adaptation signed (%(method)s), work order %(number)s")
        % {"method": SigningMethod(method).label, "number": work_order.number},
    )
    if work_order.state == WorkOrderState.WAITING_FOR_SIGNATURE:
        work_order_transition(
            work_order_id=work_order.pk, to_state=WorkOrderState.IN_PROGRESS, by=by, note="PRESC-6"
        )
    return record


@refusals_kept
@transaction.atomic
def signing_request_sign(
    *,
    ctx: AccessContext,
    request_id: int,
    risks: list[str],
    conclusion: str,
    measures: str = "",
) -> AdaptationRecord:
    """PRESC-6: the prescriber makes the functional risk assessment and signs the adaptation,
    after confirming the password (step-up, ACCESS-4)."""
    request = _request_for_prescriber(ctx, request_id)
    if not ctx.stepped_up:
        raise StepUpRequired(_("Confirm your password to sign the adaptation."))
    if request.valid_until < timezone.localdate():
        raise StateNotAllowed(
            _(
                "The signing request for work order %(number)s was valid until %(day)s. Ask the "
                "technician to send a new one."
            )
            % {
                "number": request.work_order.number,
                "day": date_format(request.valid_until, "Y-m-d"),
            }
        )
    if not risks or any(risk not in AdaptationRisk.values for risk in risks):
        raise LogisticsError(_("Risks considered: choose the risks you have assessed."))
    if conclusion not in RiskConclusion.values:
        raise LogisticsError(_("Conclusion: choose the conclusion of the risk assessment."))
    measures = _free_text(_("Measures"), measures)
    if conclusion == RiskConclusion.SAFE_WITH_MEASURES and not measures:
        raise LogisticsError(_("Measures: describe the measures the safe use needs."))
    now = timezone.now()
    transition_apply(
        machine=SIGNING_MACHINE, obj=request, to_state=SS.SIGNED, by=ctx.user, decided_at=now
    )
    return _adaptation_file(
        request=request,
        work_order=request.work_order,
        method=SigningMethod.DIGITAL,
        signed_by_id=ctx.user.pk,
        signed_on=timezone.localdate(),
        content_type=request.document_content_type,
        document=request.document,
        size=request.document_size,
        by=ctx.user,
        risks=sorted(set(risks)),
        conclusion=conclusion,
        measures=measures,
    )


@refusals_kept
@transaction.atomic
def signing_request_decline(
    *, ctx: AccessContext, request_id: int, reason: str
) -> AdaptationSigningRequest:
    """The prescriber declines with a reason; the work order goes back to the technician, who
    is told by work order number (LEAK-5)."""
    request = _request_for_prescriber(ctx, request_id)
    reason = _free_text(_("Reason"), reason)
    if not reason:
        raise LogisticsError(_("Reason: write why you decline, for the technician."))
    transition_apply(
        machine=SIGNING_MACHINE,
        obj=request,
        to_state=SS.DECLINED,
        by=ctx.user,
        declined_reason=reason[:1000],
        decided_at=timezone.now(),
    )
    work_order = request.work_order
    if work_order.state == WorkOrderState.WAITING_FOR_SIGNATURE:
        work_order_transition(
            work_order_id=work_order.pk,
            to_state=WorkOrderState.IN_PROGRESS,
            by=ctx.user,
            note="PRESC-6",
        )
    notification_send(
        user=request.sent_by,
        subject=_("Signing declined for work order %(number)s") % {"number": work_order.number},
        body=_("The prescriber declined to sign. Read the reason on the work order."),
    )
    return request


@transaction.atomic
def adaptation_paper_record(
    *, work_order_id: int, signed_on: datetime.date, scan: bytes, by: Any
) -> AdaptationRecord:
    """Signing on paper stays possible: the technician records the day the work order's
    prescriber signed, with the scanned document; an open request is closed by it."""
    work_order = _adaptation_locked(work_order_id)
    if signed_on > timezone.localdate():
        raise LogisticsError(_("Signed on: the day cannot be in the future."))
    if work_order.state in (WorkOrderState.DONE, WorkOrderState.CANCELLED):
        raise StateNotAllowed(
            _("Work order %(number)s is %(state)s.")
            % {"number": work_order.number, "state": WorkOrderState(work_order.state).label}
        )
    content_type = document_checked(scan, pdf_only=False)
    request = (
        AdaptationSigningRequest.objects.select_for_update()
        .filter(work_order=work_order, state=SS.SENT)
        .first()
    )
    if request is not None:
        transition_apply(
            machine=SIGNING_MACHINE,
            obj=request,
            to_state=SS.SIGNED_ON_PAPER,
            by=by,
            decided_at=timezone.now(),
        )
    assert work_order.prescriber_id is not None
    return _adaptation_file(
        request=request,
        work_order=work_order,
        method=SigningMethod.PAPER,
        signed_by_id=work_order.prescriber_id,
        signed_on=signed_on,
        content_type=content_type,
        document=base64.b64encode(scan).decode("ascii"),
        size=len(scan),
        by=by,
    )


@refusals_kept
def adaptation_document_read(
    *, ctx: AccessContext, document: AdaptationSigningRequest | AdaptationRecord
) -> bytes:
    """The document's bytes for the screen. PRINT-1: never handed out as a file for a patient
    the gate guards (protected, or linked to a protected person); the refusal is audited."""
    work_order = document.work_order
    if work_order.patient_id is not None and work_order_guarded(work_order):
        patient = Patient.objects.get(pk=work_order.patient_id)
        raise DocumentRefused(
            _(REFUSED_PROTECTED),
            denials=[
                Denial(
                    actor=ctx.actor,
                    action=AccessAction.PRINT,
                    patient=patient,
                    object_type=document._meta.label_lower,
                    object_id=str(document.pk),
                )
            ],
        )
    return base64.b64decode(document.document)


def signing_reminders_send(*, now: datetime.datetime | None = None) -> int:
    """PRESC-6: remind prescribers of signing requests still open and valid, at most once a day
    each. Each request is claimed by moving ``reminded_at`` forward with a conditional UPDATE;
    only the run whose UPDATE changed the row sends. The subject carries the work order number
    only (LEAK-5)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    due = Q(reminded_at__isnull=True, sent_at__lte=now - REMINDER_INTERVAL) | Q(
        reminded_at__lte=now - REMINDER_INTERVAL
    )
    open_ = Q(state=SS.SENT, valid_until__gte=today)
    candidates = list(
        AdaptationSigningRequest.objects.filter(due, open_).values_list("pk", flat=True)
    )
    sent = 0
    for pk in candidates:
        with transaction.atomic():
            claimed = AdaptationSigningRequest.objects.filter(due, open_, pk=pk).update(
                reminded_at=now
            )
            if not claimed:
                continue
            request = AdaptationSigningRequest.objects.select_related(
                "prescriber", "work_order"
            ).get(pk=pk)
            number = request.work_order.number
            notification_send(
                user=request.prescriber,
                subject=_("Reminder: signing request for work order %(number)s")
                % {"number": number},
                body=_(
                    "The specially adapted device on work order %(number)s cannot be delivered "
                    "until you sign the adaptation. The request is valid until %(day)s."
                )
                % {"number": number, "day": date_format(request.valid_until, "Y-m-d")},
            )
            sent += 1
    return sent
