"""Asking for a document: ``document_request``, the only way to make one, and batches of them.

The request decides the printing ban (PRINT-1) for every patient the document concerns, with the
exception the kind declares (PRINT-2 forwarding, LETTER-1 letters, or the identity-free form of a
paper that moves goods). A refusal is audited and raised; an accepted request becomes a
``DocumentJob`` with the snapshot of what the document shows, taken now as the requester saw it,
and its render task is sent when the transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from patients.models import AccessOutcome, Patient, PatientIdentity
from patients.transitions import transition_created
from protection.documents import kinds
from protection.documents.services.ban import (
    DocumentError,
    DocumentRefused,
    audit_print,
    print_denials,
    refusal_text,
    route_for,
    subjects_decisions,
    subjects_guards,
)
from protection.documents.services.jobs import DOCUMENT_JOB, job_render_send_on_commit
from protection.freetext import free_text_refusal
from protection.gate import AccessContext
from protection.models import (
    DocumentBatch,
    DocumentJob,
    DocumentJobPatient,
    DocumentRoute,
    DocumentState,
)
from protection.permissions import holds_role_permission
from protection.refusals import refusals_kept


@dataclass(frozen=True)
class _Subject:
    patient: Patient
    route: str


def _identities_as_user(patients: list[Patient]) -> dict[int, PatientIdentity | None]:
    # Read as the requester: row-level security hides what they may not see. One query for
    # all of them (a wave's pick list concerns hundreds of patients).
    found = {
        identity.patient_id: identity
        for identity in PatientIdentity.objects.filter(patient_id__in=[p.pk for p in patients])
    }
    return {patient.pk: found.get(patient.pk) for patient in patients}


def _check_forwarding(
    kind: kinds.DocumentKind, forward_to: str, forward_reason: str, patient_ids: list[int]
) -> bool:
    if not (forward_to or forward_reason):
        return False
    if not kind.forwarding_allowed:
        raise DocumentError(_("This kind of document is never forwarded to another principal."))
    if not forward_to or len(forward_reason) < 10:
        raise DocumentError(
            _("Forwarding: give the receiving principal and, in a few words, the reason.")
        )
    # Read on the log review by people without a grant (LEAK-1), like every free-text field.
    # The receiving principal is often named after the city the person has moved to ("Region
    # Stockholm"): naming it is what forwarding is, so the city alone does not refuse it.
    refusal = free_text_refusal(
        forward_to, field=_("Forward to"), patient_ids=patient_ids, city=False
    ) or free_text_refusal(forward_reason, field=_("Reason for printing"), patient_ids=patient_ids)
    if refusal is not None:
        raise DocumentError(refusal)
    return True


def _check_permission(ctx: AccessContext, kind: kinds.DocumentKind) -> None:
    if not holds_role_permission(ctx.user, kind.permission):
        if kind.permission == kinds.VIEW_PATIENTS:
            raise DocumentError(_("Your role does not make documents about patients."))
        raise DocumentError(_("Your role does not make this kind of document."))


def _snapshot(job: DocumentJob, kind: kinds.DocumentKind, subjects: list[_Subject]) -> Any:
    """The kind's snapshot, as the requester sees the data now, in the product's language (the
    worker that renders it has no user language either). On the identity-free route the
    builder is not given the patient at all (PRINT-1)."""
    request = kinds.SnapshotRequest(
        job=job,
        subjects=[
            kinds.SnapshotSubject(
                patient_id=subject.patient.pk,
                route=subject.route,
                patient=None if subject.route == DocumentRoute.IDENTITY_FREE else subject.patient,
            )
            for subject in subjects
        ],
    )
    with translation.override(settings.LANGUAGE_CODE):
        return kind.build_snapshot(request)


@refusals_kept
def document_request(
    *,
    ctx: AccessContext,
    kind: str,
    patients: Sequence[Patient] = (),
    params: dict[str, Any] | None = None,
    forward_to: str = "",
    forward_reason: str = "",
    batch: DocumentBatch | None = None,
    on_created: Callable[[DocumentJob], None] | None = None,
) -> DocumentJob:
    """Ask for a document of ``kind`` concerning ``patients``: the only way to make one.

    Refused (``DocumentError``) without the kind's permission; refused (``DocumentRefused``,
    a ``protection.refusals.Refusal`` whose denied entries ``refusals_kept`` keeps) when any
    patient is protected and the kind's protected form does not apply (PRINT-1); otherwise the
    job is recorded with its snapshot, audited and its render task sent on commit.
    ``on_created`` runs in the job's transaction before the snapshot is taken (a letter
    records itself there). ``params`` are internal ids for the kind's snapshot builder, never
    personal data.
    """
    definition = kinds.get(kind)
    _check_permission(ctx, definition)
    forward_to, forward_reason = forward_to.strip(), forward_reason.strip()
    forwarding = _check_forwarding(
        definition, forward_to, forward_reason, [patient.pk for patient in patients]
    )
    unique = sorted({patient.pk: patient for patient in patients}.values(), key=lambda p: p.pk)
    if definition.needs_patients and not unique:
        raise DocumentError(_("Choose the patient the document is about."))
    if definition.subject is kinds.Subject.NONE and unique:
        raise ValueError(f"document kind {definition.code!r} concerns no patient")
    subjects: list[_Subject] = []
    refused: list[tuple[Patient, str]] = []
    identities = _identities_as_user(unique)
    guards = subjects_guards([(patient, identities[patient.pk]) for patient in unique])
    decisions = subjects_decisions(ctx, identities, guards)
    for patient in unique:
        route, why = route_for(
            kind=definition,
            identity=identities[patient.pk],
            guards=guards[patient.pk],
            decision=decisions[patient.pk],
            forwarding=forwarding,
        )
        if route is None:
            refused.append((patient, why))
        else:
            subjects.append(_Subject(patient, route))
    if refused:
        # AUDIT-1: the request read every patient it names, so each gets a denied entry, once,
        # also those the ban alone would have let through: the document is refused as a whole.
        refusal = DocumentRefused(
            refusal_text(refused[0][1], definition),
            denials=print_denials(
                ctx.actor, unique, object_type="document_request", id_=definition.code[:40]
            ),
        )
        if batch is None:
            raise refusal
        # A batch member: the refused job and its denied entries commit together.
        with transaction.atomic():
            _record_refused(ctx, definition, batch, params or {}, refused[0][1])
            audit_print(
                ctx.actor,
                unique,
                AccessOutcome.DENIED,
                object_type="document_request",
                id_=definition.code[:40],
            )
        raise refusal.recorded_here()
    with transaction.atomic():
        job = DocumentJob.objects.create(
            kind=definition.code,
            requested_by=ctx.user,
            unit_id=ctx.actor.unit_id,
            batch=batch,
            forward_to=forward_to if forwarding else "",
            forward_reason=forward_reason if forwarding else "",
            params=params or {},
            record=definition.record,
        )
        DocumentJobPatient.objects.bulk_create(
            DocumentJobPatient(job=job, patient=subject.patient, route=subject.route)
            for subject in subjects
        )
        transition_created(
            machine=DOCUMENT_JOB, obj=job, by=ctx.user, note="forwarded" if forwarding else ""
        )
        audit_print(
            ctx.actor,
            [subject.patient for subject in subjects],
            AccessOutcome.ALLOWED,
            object_type="document_job",
            id_=str(job.pk),
        )
        if on_created is not None:
            on_created(job)
        job.snapshot = _snapshot(job, definition, subjects)
        job.save(update_fields=["snapshot"])
        job_render_send_on_commit(job.pk)
    return job


def _record_refused(
    ctx: AccessContext,
    definition: kinds.DocumentKind,
    batch: DocumentBatch,
    params: dict[str, Any],
    why: str,
) -> None:
    """A batch member refused at the request (PRINT-1) is kept as a refused job with its reason,
    so the batch's progress and the documents page account for it. It names no patient: the
    requester may not even see who it is (ACCESS-1); the audit entry holds the patient."""
    job = DocumentJob.objects.create(
        kind=definition.code,
        requested_by=ctx.user,
        unit_id=ctx.actor.unit_id,
        batch=batch,
        params=params,
        state=DocumentState.REFUSED,
        state_reason=why,
        finished_at=timezone.now(),
    )
    transition_created(machine=DOCUMENT_JOB, obj=job, by=ctx.user, note="PRINT-1 at request")


def document_batch_request(
    *,
    ctx: AccessContext,
    kind: str,
    patients: Sequence[Patient],
    params: Sequence[dict[str, Any]] | None = None,
) -> tuple[DocumentBatch, list[DocumentJob], list[tuple[Patient, str]]]:
    """One document per patient, as a batch whose progress the documents page shows. Each
    patient is asked for through ``document_request`` (with ``params[i]`` for ``patients[i]``,
    when given); a refused one is reported and recorded as a refused job, not fatal."""
    if params is not None and len(params) != len(patients):
        raise ValueError("one params per patient")
    batch = DocumentBatch.objects.create(requested_by=ctx.user, kind=kind)
    jobs: list[DocumentJob] = []
    refused: list[tuple[Patient, str]] = []
    for position, patient in enumerate(patients):
        try:
            jobs.append(
                document_request(
                    ctx=ctx,
                    kind=kind,
                    patients=[patient],
                    params=params[position] if params is not None else None,
                    batch=batch,
                )
            )
        except DocumentRefused as exc:
            refused.append((patient, str(exc)))
    return batch, jobs, refused
