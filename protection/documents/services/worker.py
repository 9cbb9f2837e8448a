"""Rendering a job (the render task's body) and the sweeper that makes the database, not the
broker, the record of work.

``document_job_render`` claims the job with a conditional UPDATE and, in the same transaction,
checks the ban again against the patients' protection *now* (a patient protected since the
request is refused; a document that names a protected person, forwarded or a letter, is refused
once the requester's grant has ended; on the identity-free route, a snapshot that names the
person is refused) and renders the template with the snapshot stored at the request; it makes
the PDF outside any transaction, and stores it in a second one only while it still holds the
claim and the protection read again still allows it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext_noop

from patients.models import AccessOutcome, PatientIdentity
from patients.services import Actor
from protection.documents import kinds, rendering
from protection.documents.services.ban import (
    REFUSED_NAMES_PERSON,
    REFUSED_NOT_VISIBLE,
    audit_print,
    shown_reason,
    snapshot_names_person,
    subject_refusal,
    subjects_guards,
)
from protection.documents.services.jobs import (
    NO_CLAIM,
    job_claim,
    job_close,
    job_move,
    job_render_send_on_commit,
)
from protection.documents.services.withdrawal import (
    documents_withdraw_for_patient,
    protected_with_open_documents,
)
from protection.gate import protected_patients_open_to
from protection.models import Document, DocumentJob, DocumentJobPatient, DocumentRoute
from protection.models import DocumentState as S
from protection.rls import system_context

logger = logging.getLogger(__name__)

FAILED_RENDER = gettext_noop(
    "The document could not be made. Ask for it again; if it fails again, contact support."
)


def _claim(job_id: int) -> DocumentJob | None:
    """In the caller's transaction: the job claimed for this worker (``job_claim``: one
    conditional UPDATE that also reads it, and its history row), or None. A claim whose lease
    ran out (its worker died) may be taken again."""
    now = timezone.now()
    return job_claim(
        job_id=job_id,
        max_attempts=settings.DOCUMENT_MAX_ATTEMPTS,
        now=now,
        expires=now + timedelta(seconds=settings.DOCUMENT_CLAIM_SECONDS),
    )


# Each subject's guards counted by ``hjm_patient_guards`` (as ``subjects_guards`` counts them),
# read with the subjects in one statement.
_GUARDS = RawSQL(
    "ARRAY(SELECT g FROM hjm_patient_guards(protection_documentjobpatient.patient_id) AS g "
    "ORDER BY g)",
    [],
)


def _subjects(job: DocumentJob) -> list[DocumentJobPatient]:
    """The job's subjects with their patients, identities and guards (``guard_ids``)."""
    return list(
        job.subjects.select_related("patient", "patient__identity")
        .annotate(guard_ids=_GUARDS)
        .order_by("pk")
    )


# The routes on which a document names a patient the printing ban guards (PRINT-2, LETTER-1):
# only for a requester who may still open them.
SHOWS_GUARDED = (DocumentRoute.FORWARDED, DocumentRoute.FORWARDING_LETTER)


def _open_to_requester(
    job: DocumentJob, subjects: list[DocumentJobPatient], guards: dict[int, list[int]]
) -> set[int]:
    """The guards of the job's subjects on a ``SHOWS_GUARDED`` route that are open to the
    requester now; no query for a job with none."""
    asked = {
        guard
        for subject in subjects
        if subject.route in SHOWS_GUARDED
        for guard in guards[subject.patient_id]
    }
    if not asked:
        return set()
    open_now = protected_patients_open_to(job.requested_by).filter(pk__in=asked)
    return set(open_now.values_list("pk", flat=True))


def _recheck(job: DocumentJob, subjects: list[DocumentJobPatient], *, read_again: bool) -> str:
    """PRINT-1 again, in the worker, against the protection now: the refusal's msgid or "".
    The guards read with the subjects (at the claim), or ``read_again`` (before the store)."""
    definition = kinds.get(job.kind)
    identities: dict[int, PatientIdentity | None] = {}
    for subject in subjects:
        try:
            identities[subject.patient_id] = subject.patient.identity
        except PatientIdentity.DoesNotExist:
            identities[subject.patient_id] = None
    if read_again:
        # All subjects' guards in one statement.
        guards = subjects_guards([(s.patient, identities[s.patient_id]) for s in subjects])
    else:
        guards = {
            s.patient_id: list(s.guard_ids) if identities[s.patient_id] is not None else []  # type: ignore[attr-defined]
            for s in subjects
        }
    # The snapshot serialised once.
    text = json.dumps(job.snapshot, ensure_ascii=False)
    still_open = _open_to_requester(job, subjects, guards)
    for subject in subjects:
        identity = identities[subject.patient_id]
        if subject.route in SHOWS_GUARDED and not set(guards[subject.patient_id]) <= still_open:
            # The grant (or emergency access) that let the requester ask for a document that
            # names a protected person ended before it was made (ACCESS-2, ACCESS-7).
            return REFUSED_NOT_VISIBLE
        why = subject_refusal(
            job=job,
            kind=definition,
            subject=subject,
            identity=identity,
            guards=guards[subject.patient_id],
            decision=None,
        )
        if why:
            return why
        if subject.route == DocumentRoute.IDENTITY_FREE and snapshot_names_person(
            job.snapshot, identity, text=text
        ):
            return REFUSED_NAMES_PERSON
    return ""


def _refuse_locked(job: DocumentJob, subjects: list[DocumentJobPatient], why: str) -> None:
    reason = shown_reason(kinds.get(job.kind), why)
    job_close(job, S.REFUSED, note="PRINT-1 at render", reason=reason)
    audit_print(
        Actor.system(),
        [subject.patient for subject in subjects],
        AccessOutcome.DENIED,
        object_type="document_job",
        id_=str(job.pk),
    )


def _still_claimed(job: DocumentJob) -> bool:
    """Lock the job if it is still under this worker's claim: not cancelled or withdrawn
    meanwhile, and the claim not run out and taken by another worker."""
    return (
        DocumentJob.objects.select_for_update()
        .filter(pk=job.pk, state=S.RENDERING, claim_token=job.claim_token)
        .exists()
    )


@dataclass(frozen=True)
class Claimed:
    """A job this worker holds, with its subjects (patients and identities) as read at the
    claim, and the HTML to render."""

    job: DocumentJob
    subjects: list[DocumentJobPatient]
    html: str


def _claimed_and_allowed(job_id: int) -> Claimed | str:
    """In the caller's transaction (the system context): claim the job, check the ban against
    the protection now and make its HTML; else what happened instead ("not claimed", or
    "failed" or "refused", recorded with the claim). An error here fails the job with its
    claim, so a broken template is not retried."""
    job = _claim(job_id)
    if job is None:
        return "not claimed"
    if job.snapshot is None:
        # Asked for before snapshots were stored with the job: there is nothing to print what
        # was asked for from, and a blank document must not pass for it. The user asks again.
        job_close(job, S.FAILED, note="no snapshot", reason=FAILED_RENDER)
        return "failed"
    try:
        # A savepoint, so that an error (a template's, or a statement's) leaves the claim and
        # the failure to record together.
        with transaction.atomic():
            subjects = _subjects(job)
            why = _recheck(job, subjects, read_again=False)
            if why:
                _refuse_locked(job, subjects, why)
                return "refused"
            html = document_job_html(job, subjects=subjects)
    except TRANSIENT_ERRORS:
        raise
    except Exception as exc:
        # Not re-raised: an error's text may quote what the template was given, and logs never
        # carry personal data (LEAK-1). The class name is enough to find the bug.
        logger.error("document job %s failed: %s", job_id, type(exc).__name__)
        job_close(job, S.FAILED, note=type(exc).__name__, reason=FAILED_RENDER)
        return "failed"
    return Claimed(job=job, subjects=subjects, html=html)


def document_job_html(job: DocumentJob, *, subjects: list[DocumentJobPatient] | None = None) -> str:
    """The job's HTML: its kind's template with the snapshot taken at the request, and the
    job's own record (its number, a PRINT-2 receiver and reason) with the time it is made.
    ``subjects``: the job's, when the caller has read them (no query then)."""
    # PRINT-4: a copy made for another principal about a protected person tells its receiver
    # so on the first page (documents/base.html puts it before the body). The route is the
    # job's own record, fixed at the request; an unprotected patient's forwarded copy is on the
    # ordinary route and carries no such notice.
    if subjects is None:
        protected_forwarded = job.subjects.filter(route=DocumentRoute.FORWARDED).exists()
    else:
        protected_forwarded = any(s.route == DocumentRoute.FORWARDED for s in subjects)
    context = {
        **(job.snapshot or {}),
        "job": job,
        "made_at": timezone.localtime(),
        "protected_forwarded": protected_forwarded,
    }
    return rendering.template_html(kinds.get(job.kind).template, context)


def document_job_render(*, job_id: int) -> str:
    """Render one job, at most once into a document. Returns what happened, for the log.

    Two transactions: the claim with the check of the ban and the HTML, and the store with the
    check again. The system context: the ban is checked against the protection now, which a
    user's context might hide. The data shown is the snapshot, read from no live row."""
    with system_context():
        claimed = _claimed_and_allowed(job_id)
    if isinstance(claimed, str):
        return claimed
    try:
        # Outside any transaction: a render holds no lock and no connection state.
        rendered = rendering.html_to_pdf(claimed.html)
    except TRANSIENT_ERRORS:
        _release(claimed.job)
        raise
    except Exception as exc:
        logger.error("document job %s failed: %s", job_id, type(exc).__name__)
        _fail(claimed.job, note=type(exc).__name__)
        return "failed"
    return _store(claimed.job, claimed.subjects, rendered)


def _store(
    job: DocumentJob, subjects: list[DocumentJobPatient], rendered: rendering.RenderedPdf
) -> str:
    """Store the PDF while this worker still holds the claim, if the ban still allows it: the
    patients' protection is read again (a patient may have become protected during the
    render, PRINT-1; a PRINT-3 run that starts after this commits withdraws the document)."""
    with system_context():
        if not _still_claimed(job):
            return "lost claim"
        why = _recheck(job, subjects, read_again=True)
        if why:
            _refuse_locked(job, subjects, why)
            return "refused"
        Document.objects.create(
            job=job,
            content=rendered.content,
            content_sha256=hashlib.sha256(rendered.content).hexdigest(),
            size=len(rendered.content),
            pages=rendered.pages,
        )
        job_move(job, S.READY, finished_at=timezone.now(), **NO_CLAIM)
    return "ready"


def _release(job: DocumentJob) -> None:
    """A transient error: give the job back so the retry (or the sweeper) can claim it."""
    with transaction.atomic():
        if _still_claimed(job):
            job_move(
                job,
                S.QUEUED,
                note="released after a transient error",
                enqueued_at=timezone.now(),
                **NO_CLAIM,
            )


def _fail(job: DocumentJob, *, note: str) -> None:
    with transaction.atomic():
        if _still_claimed(job):
            job_close(job, S.FAILED, note=note, reason=FAILED_RENDER)


def _transient_errors() -> tuple[type[BaseException], ...]:
    import redis
    from celery.exceptions import SoftTimeLimitExceeded
    from django.db import InterfaceError, OperationalError

    return (OperationalError, InterfaceError, redis.ConnectionError, SoftTimeLimitExceeded)


# Named transient errors: the only ones retried (with backoff, by the task). Anything else
# fails the job at once, visibly; retrying a template error would fail the same way.
TRANSIENT_ERRORS = _transient_errors()


def documents_sweep() -> dict[str, int]:
    """Beat, every minute: the database is the record of what must be rendered.

    - a job queued longer than ``DOCUMENT_REQUEUE_SECONDS`` since its message was sent, or
      rendering with a claim that ran out (its worker was lost), is sent again; a duplicate
      message is harmless, the claim lets one through;
    - a job claimed ``DOCUMENT_MAX_ATTEMPTS`` times fails, visibly;
    - an ordinary document still open or stored for a protected patient is withdrawn (a lost
      PRINT-3 message).
    """
    now = timezone.now()
    max_attempts = settings.DOCUMENT_MAX_ATTEMPTS
    failed = 0
    with transaction.atomic():
        exhausted = DocumentJob.objects.select_for_update(skip_locked=True).filter(
            Q(state=S.QUEUED) | Q(state=S.RENDERING, claim_expires_at__lt=now),
            attempts__gte=max_attempts,
        )
        for job in exhausted:
            job_close(job, S.FAILED, note="too many attempts", reason=FAILED_RENDER)
            failed += 1
    stale = DocumentJob.objects.filter(
        Q(
            state=S.QUEUED,
            enqueued_at__lt=now - timedelta(seconds=settings.DOCUMENT_REQUEUE_SECONDS),
        )
        | Q(state=S.RENDERING, claim_expires_at__lt=now),
        attempts__lt=max_attempts,
    )
    resent = 0
    for job_id in stale.values_list("pk", flat=True):
        # Conditional, so two sweepers at once send a job once.
        with transaction.atomic():
            if stale.filter(pk=job_id).update(enqueued_at=now):
                job_render_send_on_commit(job_id)
                resent += 1
    withdrawn = sum(
        documents_withdraw_for_patient(patient_id=pid) for pid in protected_with_open_documents()
    )
    return {"failed": failed, "resent": resent, "withdrawn": withdrawn}
