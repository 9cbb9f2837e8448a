"""Asking for the prescriptions floor's documents: the order confirmation of one prescription,
or of several as a batch. Both go through ``protection.documents.services``, the only way to
make a document about a patient, which decides the printing ban (PRINT-1/2) and audits it.
The pipeline takes the order confirmation's snapshot then, when it is asked for
(``prescriptions.documents``). A refusal is a ``protection.refusals.Refusal``: its denied
entries are kept whatever transaction it rolls back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from prescriptions.documents import ORDER_CONFIRMATION_KIND
from prescriptions.models import Prescription, PrescriptionState
from prescriptions.selectors.prescription import prescription_get_for_user
from prescriptions.services.access import may_act_on
from prescriptions.services.errors import PrescriptionError, StateNotAllowed
from protection.documents.services import document_batch_request, document_request
from protection.gate import AccessContext
from protection.models import DocumentBatch, DocumentJob
from protection.refusals import not_found

# A draft is not an order yet, and a cancelled one is no longer one.
NOT_CONFIRMABLE = (PrescriptionState.DRAFT, PrescriptionState.CANCELLED)
MAX_BATCH = 50


def _confirmable(prescription: Prescription) -> None:
    if prescription.state in NOT_CONFIRMABLE:
        raise StateNotAllowed(
            _(
                "Prescription %(number)s has no order confirmation: it is not submitted, or "
                "it is cancelled."
            )
            % {"number": prescription.reference}
        )


def order_confirmation_request(
    *, ctx: AccessContext, reference: str, forward_to: str = "", forward_reason: str = ""
) -> DocumentJob:
    """The order confirmation of one prescription, read through the floor's access path (404
    for missing, another unit's or a masked patient's). Raises the pipeline's
    ``DocumentRefused`` (audited) for a protected patient unless it is forwarded (PRINT-2)."""
    detail = prescription_get_for_user(ctx=ctx, reference=reference)
    prescription = detail.prescription
    _confirmable(prescription)
    return document_request(
        ctx=ctx,
        kind=ORDER_CONFIRMATION_KIND,
        patients=[prescription.patient],
        params={"prescription_id": prescription.pk},
        forward_to=forward_to,
        forward_reason=forward_reason,
    )


@dataclass(frozen=True)
class BatchOutcome:
    batch: DocumentBatch
    queued: list[str]  # prescription numbers
    refused: list[tuple[str, str]]  # (prescription number, the pipeline's reason)


def order_confirmations_batch_request(
    *, ctx: AccessContext, references: Sequence[str]
) -> BatchOutcome:
    """The order confirmations of several of the user's prescriptions as one batch. Each is
    asked for on its own: a protected patient's is refused with the reason (audited, and kept
    in the batch as a refused job) while the rest are made. The patients are not read here:
    the pipeline asks the gate for each, so a masked one is refused without being shown."""
    unique = list(dict.fromkeys(references))
    if not unique:
        raise PrescriptionError(_("Choose at least one prescription."))
    if len(unique) > MAX_BATCH:
        raise PrescriptionError(
            _("Choose at most %(count)s prescriptions at a time.") % {"count": MAX_BATCH}
        )
    found = Prescription.objects.select_related("patient").in_bulk(unique, field_name="reference")
    chosen = []
    for reference in unique:
        prescription = found.get(reference)
        if prescription is None or not may_act_on(ctx.user, prescription):
            raise not_found()
        _confirmable(prescription)
        chosen.append(prescription)
    batch, jobs, refused = document_batch_request(
        ctx=ctx,
        kind=ORDER_CONFIRMATION_KIND,
        patients=[prescription.patient for prescription in chosen],
        params=[{"prescription_id": prescription.pk} for prescription in chosen],
    )
    accepted = {job.params["prescription_id"] for job in jobs}
    reasons = {patient.pk: reason for patient, reason in refused}
    return BatchOutcome(
        batch=batch,
        queued=[p.reference for p in chosen if p.pk in accepted],
        refused=[(p.reference, reasons[p.patient_id]) for p in chosen if p.pk not in accepted],
    )
