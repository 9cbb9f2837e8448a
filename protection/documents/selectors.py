"""Reads of the document pipeline for a user. Patients as the gate shows them (ACCESS-1), never
in a URL (LEAK-1)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, QuerySet, Subquery
from django.db.models.expressions import RawSQL

from patients.models import AccessAction, AccessOutcome, PatientIdentity, StaffProfile
from patients.presenters import PatientCard
from patients.services import access_entry_record
from protection.documents import kinds
from protection.documents.services import subject_decision, subject_guards, subject_refusal
from protection.gate import AccessContext, Decision
from protection.labels import patient_labels_for_user
from protection.models import (
    DocumentJob,
    DocumentJobPatient,
    DocumentRoute,
    DocumentState,
)
from protection.permissions import holds_role_permission
from protection.refusals import StepUpRequired
from protection.review import ADMIN_PERMISSION, MANAGER_PERMISSION

LIST_LIMIT = 100


def document_jobs_list_for_user(*, user: Any, limit: int = LIST_LIMIT) -> list[DocumentJob]:
    """The user's own documents, newest first, with their patients (two queries).

    Each subject carries ``patient_visible``: the database's own answer (``hjm_identity_visible``
    for the user the request runs as) whether the patient may be shown *now*. A patient
    protected since the request, or linked to one (PROT-5), is not shown, not even by
    reference, to a user without a grant (ACCESS-1)."""
    if not (user.is_authenticated and user.is_active):
        return []
    subjects = (
        DocumentJobPatient.objects.select_related("patient")
        .annotate(
            patient_visible=RawSQL(
                "hjm_identity_visible(protection_documentjobpatient.patient_id)", []
            )
        )
        .order_by("pk")
    )
    return list(
        DocumentJob.objects.filter(requested_by_id=user.pk)
        .prefetch_related(Prefetch("subjects", queryset=subjects))
        .order_by("-created_at", "-pk")[:limit]
    )


@dataclass(frozen=True)
class BatchProgress:
    batch_id: int
    kind: str
    total: int
    done: int  # ready, refused, cancelled, withdrawn or failed: no longer waiting
    # Of those done, the ones that gave no document (refused, cancelled, withdrawn, failed): a
    # full bar must not read as "all made" when one was refused.
    not_made: int = 0


def batch_progress(jobs: list[DocumentJob]) -> list[BatchProgress]:
    """Progress of the batches among these jobs, from the jobs already read (no query)."""
    totals: Counter[int] = Counter()
    done: Counter[int] = Counter()
    not_made: Counter[int] = Counter()
    kind: dict[int, str] = {}
    for job in jobs:
        if job.batch_id is None:
            continue
        totals[job.batch_id] += 1
        kind[job.batch_id] = job.kind
        if job.state not in (DocumentState.QUEUED, DocumentState.RENDERING):
            done[job.batch_id] += 1
            if job.state != DocumentState.READY:
                not_made[job.batch_id] += 1
    return [
        BatchProgress(b, kind[b], totals[b], done[b], not_made[b])
        for b in sorted(totals, reverse=True)
    ]


def kind_label(code: str) -> str:
    try:
        return str(kinds.get(code).label)
    except kinds.UnknownKind:
        return code


def _moves_goods(code: str) -> bool:
    """Whether the kind is a paper that moves goods, made without identity for a patient the
    requester may not see (PRINT-1). A kind no floor registers any more is not."""
    try:
        return kinds.get(code).identity_free
    except kinds.UnknownKind:
        return False


@dataclass(frozen=True)
class DocumentRow:
    """One line of the documents page, from a job of :func:`document_jobs_list_for_user`."""

    job: DocumentJob
    kind: str
    # The patients the line names, in order, as the gate shows them to the user now: name and
    # personnummer first, or the protection label and birth year (ACCESS-1).
    patients: list[PatientCard]
    downloadable: bool
    # The line names a protected patient, so the page prints only its notice (PRINT-1).
    protected: bool


def document_rows(*, ctx: AccessContext, jobs: list[DocumentJob]) -> list[DocumentRow]:
    """What the documents page shows of each job, from the jobs already read, the patients as
    labels (``patient_labels_for_user``: a fixed few queries, each name shown logged, AUDIT-1).

    ACCESS-1: a patient the user may not see now is the protection label and birth year, and
    their document offers no download (it would refuse anyway), unless it was made without
    identity. PRINT-1: the line of a paper that moves goods names no patient at all, neither a
    name nor the label, and never makes the page one about a protected patient. It names
    nobody even where the user could see the patient: a line that showed a name for ordinary
    patients only would, by its blank, tell which orders concern protected identity, the very
    link the rule guards.
    """
    subjects_of = {job.pk: list(job.subjects.all()) for job in jobs}
    named = {job.pk: not _moves_goods(job.kind) for job in jobs}
    cards = patient_labels_for_user(
        ctx=ctx,
        rows=[
            (subject.patient_id, str(job.pk))
            for job in jobs
            if named[job.pk]
            for subject in subjects_of[job.pk]
        ],
        object_type="document_job",
    )
    rows = []
    for job in jobs:
        subjects = subjects_of[job.pk]
        # The selector's annotation; absent means not shown (fail closed).
        visible = [getattr(subject, "patient_visible", False) for subject in subjects]
        rows.append(
            DocumentRow(
                job=job,
                kind=kind_label(job.kind),
                patients=[cards[subject.patient_id] for subject in subjects]
                if named[job.pk]
                else [],
                downloadable=all(
                    shown or subject.route == DocumentRoute.IDENTITY_FREE
                    for subject, shown in zip(subjects, visible, strict=True)
                ),
                # A guardian of a protected child is named in full after step-up but is not
                # protected: the page prints only a notice for them too (PRINT-1, PROT-5).
                protected=named[job.pk]
                and any(
                    subject.patient.is_protected or cards[subject.patient_id].guarded
                    for subject in subjects
                ),
            )
        )
    return rows


def document_content_for_user(*, ctx: AccessContext, job_id: int) -> tuple[DocumentJob, bytes]:
    """A ready document of the user's own, through the gate, audited (AUDIT-1). Raises
    DocumentJob.DoesNotExist, the same for missing and forbidden (house rule 5), and
    ``StepUpRequired`` when the user must confirm the password first (ACCESS-4)."""
    job = (
        DocumentJob.objects.filter(
            pk=job_id, requested_by_id=ctx.user.pk, state=DocumentState.READY
        )
        .select_related("document")
        .first()
    )
    if job is None or job.document.content is None:
        raise DocumentJob.DoesNotExist
    definition = kinds.get(job.kind)
    # The kind's permission, held now: a role that lost it downloads nothing more.
    permitted = holds_role_permission(ctx.user, definition.permission)
    subjects = list(job.subjects.select_related("patient"))
    refused = [] if permitted else [subject.patient for subject in subjects]
    for subject in subjects if permitted else []:
        identity = PatientIdentity.objects.filter(patient_id=subject.patient_id).first()
        guards = subject_guards(subject.patient, identity)
        decision = subject_decision(ctx, identity, guards)
        # An identity-free paper shows nobody: it needs no grant, and so no step-up.
        if decision is Decision.STEP_UP and subject.route != DocumentRoute.IDENTITY_FREE:
            raise StepUpRequired
        # The grant may have ended, or the patient become protected before PRINT-3 ran.
        if subject_refusal(
            job=job,
            kind=definition,
            subject=subject,
            identity=identity,
            guards=guards,
            decision=decision,
        ):
            refused.append(subject.patient)
    with transaction.atomic():
        for subject in subjects:
            access_entry_record(
                actor=ctx.actor,
                action=AccessAction.EXPORT,
                outcome=AccessOutcome.DENIED if refused else AccessOutcome.ALLOWED,
                patient=subject.patient,
                object_type="document_job",
                object_id=str(job.pk),
            )
    if refused or not permitted:
        raise DocumentJob.DoesNotExist
    return job, bytes(job.document.content)


def forwarded_documents_for_review(*, user: Any, limit: int = 50) -> QuerySet[DocumentJob]:
    """PRINT-2 on the log review: documents printed for forwarding, newest first, in the
    reviewer's scope (administrators: all; unit managers: their unit's)."""
    jobs = DocumentJob.objects.exclude(forward_reason="")
    if not holds_role_permission(user, ADMIN_PERMISSION):
        if not holds_role_permission(user, MANAGER_PERMISSION):
            return DocumentJob.objects.none()
        unit = Subquery(StaffProfile.objects.filter(user_id=user.pk).values("unit_id")[:1])
        jobs = jobs.filter(unit_id=unit)
    return (
        jobs.select_related("requested_by", "unit")
        .prefetch_related(
            Prefetch("subjects", queryset=DocumentJobPatient.objects.select_related("patient"))
        )
        .order_by("-created_at", "-pk")[:limit]
    )
