"""Writes of the document pipeline: asking for a document, rendering it, withdrawing it.

``document_request`` is the only way to make a document about a patient. It decides the
printing ban (PRINT-1) for every patient the document concerns, with the one exception a kind
may allow (PRINT-2: forwarding to another principal with a recorded reason) and the letter's
own route (LETTER-1: through Skatteverket's forwarding service). A refusal is audited and
raised; an accepted request becomes a ``DocumentJob`` whose render task is sent when the
transaction commits.

``document_job_render`` is the task's body: it claims the job with a conditional UPDATE, checks
the ban again against the patient's protection *now* (a patient protected since the request is
refused), renders outside any transaction, and stores the PDF only while it still holds the
claim. ``documents_withdraw_for_patient`` is PRINT-3. ``documents_sweep`` is the beat job that
makes the database, not the broker, the record of work.

Every state change goes through ``_transition``, which checks the table of allowed moves and
writes the history row. Messages are for users (Swedish through gettext) and name job numbers
and internal references only (LEAK-1/2).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from patients.identity import contains_identity_number
from patients.models import (
    AccessAction,
    AccessOutcome,
    Patient,
    PatientIdentity,
    PatientRelation,
)
from patients.services import Actor, access_entry_record, notification_send
from protection.documents import kinds, rendering
from protection.gate import (
    AccessContext,
    Decision,
    decide_for_guards,
    guarding_patient_ids,
    linked_patient_ids,
)
from protection.models import (
    Document,
    DocumentBatch,
    DocumentJob,
    DocumentJobPatient,
    DocumentJobTransition,
    DocumentRoute,
    DocumentState,
)
from protection.permissions import holds_role_permission
from protection.rls import system_context

logger = logging.getLogger(__name__)

S = DocumentState
# The allowed moves of a job. "" is a job being created.
TRANSITIONS: dict[str, frozenset[str]] = {
    # Refused at once: a member of a batch is recorded refused, so the batch shows it.
    "": frozenset({S.QUEUED, S.REFUSED}),
    S.QUEUED: frozenset({S.RENDERING, S.CANCELLED, S.FAILED}),
    # Back to queued: a transient error released the claim, or a lost worker's claim ran out.
    S.RENDERING: frozenset({S.READY, S.REFUSED, S.QUEUED, S.RENDERING, S.CANCELLED, S.FAILED}),
    S.READY: frozenset({S.WITHDRAWN}),
}
OPEN_STATES = (S.QUEUED, S.RENDERING)
REQUEST_PERMISSION = "patients.view_patient"

# Stored untranslated and shown translated: the worker has no user language, the page has.
REFUSED_PROTECTED = gettext_noop(
    "The document concerns a patient with protected identity. Such documents are never "
    "printed or made into PDFs."
)
REFUSED_FORWARDABLE = gettext_noop(
    "If it is to be forwarded to another principal, give the receiver and the reason."
)
REFUSED_RESERVE_NUMBER = gettext_noop(
    "The patient is known only by a reservnummer. Skatteverket's forwarding service finds a "
    "person by personnummer or samordningsnummer only, so no forwarding letter can be made: "
    "contact the patient through the prescriber instead."
)
REFUSED_NOT_VISIBLE = gettext_noop(
    "You cannot see who this patient is, so you cannot make a document about them."
)
FAILED_RENDER = gettext_noop(
    "The document could not be made. Ask for it again; if it fails again, contact support."
)
WITHDRAWN_PROTECTED = gettext_noop(
    "Withdrawn: a patient the document concerns now has protected identity."
)


class DocumentError(Exception):
    """A request the rules refuse; the message tells the user what to do instead."""


class DocumentRefused(DocumentError):
    """PRINT-1 (or LETTER-1): the document may not be made. Already audited when raised."""


class InvalidTransition(RuntimeError):
    """A programming error: a move the table of transitions does not allow."""


@dataclass(frozen=True)
class _Subject:
    patient: Patient
    route: str


def _transition(
    job: DocumentJob, to_state: str, *, by_id: int | None = None, note: str = "", **fields: Any
) -> None:
    """Move a job the caller holds (locked, or just claimed) and write the history row."""
    if to_state not in TRANSITIONS.get(job.state, frozenset()):
        raise InvalidTransition(f"document job {job.pk}: {job.state} -> {to_state}")
    DocumentJobTransition.objects.create(
        job=job, from_state=job.state, to_state=to_state, by_id=by_id, note=note[:300]
    )
    job.state = to_state
    for name, value in fields.items():
        setattr(job, name, value)
    job.save(update_fields=["state", *fields])


# --- the printing ban ----------------------------------------------------------------------


def subject_guards(patient: Patient, identity: PatientIdentity | None) -> list[int]:
    """The protected patients guarding this one (``guarding_patient_ids``); none to count
    when row-level security hid the identity, which refuses the document on its own."""
    return guarding_patient_ids(patient, identity) if identity is not None else []


def subject_decision(
    ctx: AccessContext, identity: PatientIdentity | None, guards: list[int]
) -> Decision:
    """The gate's answer for the requester (``decide``) from guards already counted, so the
    request and the download count them once per patient."""
    return Decision.MASKED if identity is None else decide_for_guards(ctx, guards)


def _route_for(
    *,
    kind: kinds.DocumentKind,
    identity: PatientIdentity | None,
    guards: list[int],
    decision: Decision | None,
    forwarding: bool,
) -> tuple[str | None, str]:
    """PRINT-1/2, LETTER-1 for one patient: (route, "") or (None, the refusal's msgid).

    ``guards`` are the patient's (:func:`subject_guards`). ``decision`` is the gate's answer
    for the requester, or None in the worker, where the requester's grant was checked at the
    request and what counts is the protection now.
    """
    if identity is None:  # hidden by row-level security: protected, or linked to a protected
        return None, REFUSED_NOT_VISIBLE if decision is not None else REFUSED_PROTECTED
    if decision is not None and decision is not Decision.FULL:
        return None, REFUSED_PROTECTED
    if not guards:
        # An unprotected patient is on the ordinary route even when the document is forwarded
        # (PRINT-2): should the patient become protected, PRINT-3 withdraws it like any other.
        return DocumentRoute.ORDINARY, ""
    if kind.letter:
        # LETTER-1 for the protected patient and the persons linked to them (PROT-5): the
        # letter carries no address and, on paper, travels through the forwarding service.
        if not identity.personal_identity_number:
            return None, REFUSED_RESERVE_NUMBER
        return DocumentRoute.FORWARDING_LETTER, ""
    if forwarding and kind.forwarding_allowed:
        # PRINT-2: the reason is on record, and the document stays (it was made to be sent).
        return DocumentRoute.FORWARDED, ""
    return None, REFUSED_PROTECTED


def _refusal_text(msgid: str, kind: kinds.DocumentKind) -> str:
    text = _(msgid)
    if msgid == REFUSED_PROTECTED and kind.forwarding_allowed:
        text = f"{text} {_(REFUSED_FORWARDABLE)}"
    return text


def _audit(
    actor: Actor, patients: Sequence[Patient], outcome: AccessOutcome, *, object_type: str, id_: str
) -> None:
    for patient in patients:
        access_entry_record(
            actor=actor,
            action=AccessAction.PRINT,
            outcome=outcome,
            patient=patient,
            object_type=object_type,
            object_id=id_,
        )


def _identity_as_user(patient: Patient) -> PatientIdentity | None:
    # Read as the requester: row-level security hides what they may not see.
    return PatientIdentity.objects.filter(patient_id=patient.pk).first()


def _check_forwarding(kind: kinds.DocumentKind, forward_to: str, forward_reason: str) -> bool:
    if not (forward_to or forward_reason):
        return False
    if not kind.forwarding_allowed:
        raise DocumentError(_("This kind of document is never forwarded to another principal."))
    if not forward_to or len(forward_reason) < 10:
        raise DocumentError(
            _("Forwarding: give the receiving principal and, in a few words, the reason.")
        )
    # Read on the log review by people without a grant (LEAK-1), like every free-text field.
    if contains_identity_number(forward_to) or contains_identity_number(forward_reason):
        raise DocumentError(_("Forwarding: do not write the patient's personnummer."))
    return True


def document_request(
    *,
    ctx: AccessContext,
    kind: str,
    patients: Sequence[Patient],
    params: dict[str, Any] | None = None,
    forward_to: str = "",
    forward_reason: str = "",
    batch: DocumentBatch | None = None,
    on_created: Callable[[DocumentJob], None] | None = None,
) -> DocumentJob:
    """Ask for a document of ``kind`` about ``patients``: the only way to make one.

    Refused (``DocumentRefused``, audited) when any patient is protected and the kind's
    exception does not apply (PRINT-1); otherwise the job is recorded, audited and its render
    task sent on commit. ``on_created`` runs in the job's transaction (a letter records itself
    there). ``params`` are internal ids for the kind's context builder, never personal data.

    Call it outside a transaction that a refusal would roll back: the refusal's audit entries
    are committed before the exception is raised.
    """
    definition = kinds.get(kind)
    if not holds_role_permission(ctx.user, REQUEST_PERMISSION):
        raise DocumentError(_("Your role does not make documents about patients."))
    forward_to, forward_reason = forward_to.strip(), forward_reason.strip()
    forwarding = _check_forwarding(definition, forward_to, forward_reason)
    unique = sorted({patient.pk: patient for patient in patients}.values(), key=lambda p: p.pk)
    if not unique:
        raise DocumentError(_("Choose the patient the document is about."))
    subjects: list[_Subject] = []
    refused: list[tuple[Patient, str]] = []
    for patient in unique:
        identity = _identity_as_user(patient)
        guards = subject_guards(patient, identity)
        route, why = _route_for(
            kind=definition,
            identity=identity,
            guards=guards,
            decision=subject_decision(ctx, identity, guards),
            forwarding=forwarding,
        )
        if route is None:
            refused.append((patient, why))
        else:
            subjects.append(_Subject(patient, route))
    if refused:
        with transaction.atomic():
            _audit(
                ctx.actor,
                [patient for patient, _why in refused],
                AccessOutcome.DENIED,
                object_type="document_request",
                id_=definition.code[:40],
            )
            if batch is not None:
                _record_refused(ctx, definition, batch, params or {}, refused[0][1])
        raise DocumentRefused(_refusal_text(refused[0][1], definition))
    with transaction.atomic():
        job = DocumentJob.objects.create(
            kind=definition.code,
            requested_by=ctx.user,
            unit_id=ctx.actor.unit_id,
            batch=batch,
            forward_to=forward_to if forwarding else "",
            forward_reason=forward_reason if forwarding else "",
            params=params or {},
        )
        DocumentJobPatient.objects.bulk_create(
            DocumentJobPatient(job=job, patient=subject.patient, route=subject.route)
            for subject in subjects
        )
        job.state = ""
        _transition(job, S.QUEUED, by_id=ctx.user.pk, note="forwarded" if forwarding else "")
        _audit(
            ctx.actor,
            [subject.patient for subject in subjects],
            AccessOutcome.ALLOWED,
            object_type="document_job",
            id_=str(job.pk),
        )
        if on_created is not None:
            on_created(job)
        _enqueue_on_commit(job.pk)
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
    )
    job.state = ""
    _transition(
        job,
        S.REFUSED,
        by_id=ctx.user.pk,
        note="PRINT-1 at request",
        state_reason=why,
        finished_at=timezone.now(),
    )


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


def _broker_errors() -> tuple[type[BaseException], ...]:
    import kombu.exceptions
    import redis

    # kombu's OperationalError is what a send raises once Celery's publish retries give up;
    # redis' ConnectionError in case the transport lets one through unwrapped.
    return (kombu.exceptions.OperationalError, redis.ConnectionError)


# Named: the only errors a send on commit swallows. The job is in the database, queued, with
# its enqueued_at: the sweeper sends it again (house rule 6). Anything else is a bug and raises.
BROKER_ERRORS = _broker_errors()


def _send(task: Any, object_id: int, *, what: str) -> None:
    """Send ``task(object_id)`` now, after the commit. A broker outage at that moment must not
    turn a committed request into an error page: the database is the record of the work and
    the sweeper sends it later. Logged by internal id only (LEAK-1)."""
    try:
        task.delay(object_id)
    except BROKER_ERRORS as exc:
        logger.warning(
            "%s %s: broker unreachable (%s); left for the sweeper",
            what,
            object_id,
            type(exc).__name__,
        )


def _send_on_commit(task: Any, object_id: int, *, what: str) -> None:
    """Send ``task(object_id)`` when the transaction commits (:func:`_send`)."""
    transaction.on_commit(partial(_send, task, object_id, what=what))


def _enqueue_on_commit(job_id: int) -> None:
    # Imported here: the task module calls this one.
    from protection.documents.tasks import render_document

    _send_on_commit(render_document, job_id, what="document job")


# --- rendering (the task's body) -----------------------------------------------------------


def _claim(job_id: int) -> uuid.UUID | None:
    """Take the job for this worker with a conditional UPDATE; None when someone else has it,
    it is done, or it was tried too often. A claim whose lease ran out (its worker died) may
    be taken again."""
    now = timezone.now()
    token = uuid.uuid4()
    lease = now + timedelta(seconds=settings.DOCUMENT_CLAIM_SECONDS)
    claimable = DocumentJob.objects.filter(pk=job_id, attempts__lt=settings.DOCUMENT_MAX_ATTEMPTS)
    for from_state, condition in (
        (S.QUEUED, Q(state=S.QUEUED)),
        (S.RENDERING, Q(state=S.RENDERING, claim_expires_at__lt=now)),
    ):
        with transaction.atomic():
            claimed = claimable.filter(condition).update(
                state=S.RENDERING,
                claim_token=token,
                claim_expires_at=lease,
                attempts=F("attempts") + 1,
            )
            if claimed:
                DocumentJobTransition.objects.create(
                    job_id=job_id,
                    from_state=from_state,
                    to_state=S.RENDERING,
                    note="claim expired" if from_state == S.RENDERING else "",
                )
                return token
    return None


def _subjects(job: DocumentJob) -> list[DocumentJobPatient]:
    return list(job.subjects.select_related("patient", "patient__identity").order_by("pk"))


def subject_refusal(
    *,
    job: DocumentJob,
    kind: kinds.DocumentKind,
    subject: DocumentJobPatient,
    identity: PatientIdentity | None,
    guards: list[int],
    decision: Decision | None,
) -> str:
    """PRINT-1 again for one patient of an existing job, in the worker (``decision`` None) or
    at the download: the refusal's msgid, or "" when the document may still be made or handed
    out. A patient asked for on the ordinary route and protected since is refused."""
    route, why = _route_for(
        kind=kind,
        identity=identity,
        guards=guards,
        decision=decision,
        forwarding=bool(job.forward_reason),
    )
    if route is None:
        return why
    if subject.route == DocumentRoute.ORDINARY and route != DocumentRoute.ORDINARY:
        return REFUSED_PROTECTED
    return ""


def _recheck(job: DocumentJob, subjects: list[DocumentJobPatient]) -> str:
    """PRINT-1 again, in the worker, against the protection now: the refusal's msgid or ""."""
    definition = kinds.get(job.kind)
    for subject in subjects:
        try:
            identity: PatientIdentity | None = subject.patient.identity
        except PatientIdentity.DoesNotExist:
            identity = None
        why = subject_refusal(
            job=job,
            kind=definition,
            subject=subject,
            identity=identity,
            guards=subject_guards(subject.patient, identity),
            decision=None,
        )
        if why:
            return why
    return ""


def _close(job: DocumentJob, to_state: str, *, note: str, reason: str = "") -> None:
    """End a job's life (refused, failed, cancelled): the claim goes, the end is recorded."""
    _transition(
        job,
        to_state,
        note=note,
        state_reason=reason,
        claim_token=None,
        claim_expires_at=None,
        finished_at=timezone.now(),
    )


def _refuse_locked(job: DocumentJob, why: str) -> None:
    _close(job, S.REFUSED, note="PRINT-1 at render", reason=why)
    _audit(
        Actor.system(),
        [subject.patient for subject in job.subjects.select_related("patient")],
        AccessOutcome.DENIED,
        object_type="document_job",
        id_=str(job.pk),
    )


def _locked_claimed(job_id: int, token: uuid.UUID) -> DocumentJob | None:
    job = DocumentJob.objects.select_for_update().get(pk=job_id)
    if job.state != S.RENDERING or job.claim_token != token:
        return None  # cancelled meanwhile, or the claim ran out and another worker took it
    return job


def document_job_render(*, job_id: int) -> str:
    """Render one job, at most once into a document. Returns what happened, for the log."""
    token = _claim(job_id)
    if token is None:
        return "not claimed"
    try:
        # The system context: the worker reads the identities the document shows. The request
        # passed the gate; the ban is checked again here, against the protection now.
        with transaction.atomic(), system_context():
            job = _locked_claimed(job_id, token)
            if job is None:
                return "lost claim"
            subjects = _subjects(job)
            why = _recheck(job, subjects)
            if why:
                _refuse_locked(job, why)
                return "refused"
            definition = kinds.get(job.kind)
            context = definition.build_context(job, [s.patient for s in subjects])
            html = rendering.template_html(definition.template, context)
        # Outside any transaction: a render holds no lock and no connection state.
        rendered = rendering.html_to_pdf(html)
    except TRANSIENT_ERRORS:
        _release(job_id, token)
        raise
    except Exception as exc:
        # Not re-raised: an error's text may quote what the template was given, and logs never
        # carry personal data (LEAK-1). The class name is enough to find the bug.
        logger.error("document job %s failed: %s", job_id, type(exc).__name__)
        _fail(job_id, token, note=type(exc).__name__)
        return "failed"
    return _store(job_id, token, rendered)


def _store(job_id: int, token: uuid.UUID, rendered: rendering.RenderedPdf) -> str:
    with transaction.atomic(), system_context():
        job = _locked_claimed(job_id, token)
        if job is None:
            return "lost claim"
        # The patient may have become protected during the render (PRINT-1). A PRINT-3 run that
        # starts after this commits finds the document and withdraws it.
        why = _recheck(job, _subjects(job))
        if why:
            _refuse_locked(job, why)
            return "refused"
        Document.objects.create(
            job=job,
            content=rendered.content,
            content_sha256=hashlib.sha256(rendered.content).hexdigest(),
            size=len(rendered.content),
            pages=rendered.pages,
        )
        _transition(
            job,
            S.READY,
            claim_token=None,
            claim_expires_at=None,
            finished_at=timezone.now(),
        )
    return "ready"


def _release(job_id: int, token: uuid.UUID) -> None:
    """A transient error: give the job back so the retry (or the sweeper) can claim it."""
    with transaction.atomic():
        job = _locked_claimed(job_id, token)
        if job is not None:
            _transition(
                job,
                S.QUEUED,
                note="released after a transient error",
                claim_token=None,
                claim_expires_at=None,
                enqueued_at=timezone.now(),
            )


def _fail(job_id: int, token: uuid.UUID, *, note: str) -> None:
    with transaction.atomic():
        job = _locked_claimed(job_id, token)
        if job is not None:
            _close(job, S.FAILED, note=note, reason=FAILED_RENDER)


def _transient_errors() -> tuple[type[BaseException], ...]:
    import redis
    from celery.exceptions import SoftTimeLimitExceeded
    from django.db import InterfaceError, OperationalError

    return (OperationalError, InterfaceError, redis.ConnectionError, SoftTimeLimitExceeded)


# Named transient errors: the only ones retried (with backoff, by the task). Anything else
# fails the job at once, visibly; retrying a template error would fail the same way.
TRANSIENT_ERRORS = _transient_errors()


# --- PRINT-3 -------------------------------------------------------------------------------


@transaction.atomic
def documents_withdraw_for_patient(*, patient_id: int) -> int:
    """PRINT-3: the patient became protected. Their queued and rendering jobs are cancelled and
    their stored documents withdrawn (content removed), with the linked persons' (PROT-5).
    Documents made for the protection (PRINT-2 forwarding, LETTER-1 letters) stay. Idempotent:
    returns how many jobs it changed. The requesters are told by job number (LEAK-2)."""
    with system_context():
        if not Patient.objects.filter(pk=patient_id, is_protected=True).exists():
            return 0
        patient_ids = linked_patient_ids(patient_id)
        jobs = list(
            DocumentJob.objects.select_for_update()
            .filter(
                state__in=(*OPEN_STATES, S.READY),
                pk__in=DocumentJobPatient.objects.filter(
                    patient_id__in=patient_ids, route=DocumentRoute.ORDINARY
                ).values("job_id"),
            )
            .order_by("pk")
        )
        now = timezone.now()
        for job in jobs:
            if job.state == S.READY:
                Document.objects.filter(pk=job.pk).update(content=None, withdrawn_at=now)
                _transition(job, S.WITHDRAWN, note="PRINT-3", state_reason=WITHDRAWN_PROTECTED)
            else:
                _close(job, S.CANCELLED, note="PRINT-3", reason=WITHDRAWN_PROTECTED)
        requesters = get_user_model().objects.in_bulk({job.requested_by_id for job in jobs})
        for job in jobs:
            notification_send(
                user=requesters.get(job.requested_by_id),
                subject=_("Document %(id)s withdrawn") % {"id": job.pk},
                body=_(WITHDRAWN_PROTECTED),
            )
    return len(jobs)


def withdraw_send(patient_id: int) -> None:
    """Send the PRINT-3 task: a ``protection.registry.protection_added_handlers`` entry
    (``ProtectionConfig.ready``), called once the transaction that protected the patient
    commits."""
    from protection.documents.tasks import withdraw_documents

    # A lost message is found by the sweeper (PRINT-3's safety net).
    _send(withdraw_documents, patient_id, what="withdrawal for patient")


# --- the sweeper ---------------------------------------------------------------------------


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
            _close(job, S.FAILED, note="too many attempts", reason=FAILED_RENDER)
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
                _enqueue_on_commit(job_id)
                resent += 1
    withdrawn = sum(
        documents_withdraw_for_patient(patient_id=pid) for pid in _protected_with_open_documents()
    )
    return {"failed": failed, "resent": resent, "withdrawn": withdrawn}


def _protected_with_open_documents() -> list[int]:
    """The protected patients whose guard covers a subject of an ordinary document still open
    or stored: the subject itself, or a person the register links to them (PROT-5, L2). The
    PRINT-3 run for each withdraws the documents of the patient and of their linked persons."""
    with system_context():  # the links are found in rows no user context may see
        protected_numbers = PatientIdentity.objects.filter(
            patient__is_protected=True, personal_identity_number__isnull=False
        ).values("personal_identity_number")
        numbers_linked_to_protected = PatientRelation.objects.filter(
            patient__is_protected=True
        ).values("related_identity_number")
        subjects = (
            DocumentJobPatient.objects.filter(
                Q(patient__is_protected=True)
                | Q(patient__relations__related_identity_number__in=protected_numbers)
                | Q(patient__identity__personal_identity_number__in=numbers_linked_to_protected),
                route=DocumentRoute.ORDINARY,
                job__state__in=(*OPEN_STATES, S.READY),
            )
            .values_list("patient_id", flat=True)
            .distinct()
        )
        guarding: set[int] = set()
        for patient in Patient.objects.select_related("identity").filter(pk__in=list(subjects)):
            try:
                guarding.update(guarding_patient_ids(patient, patient.identity))
            except PatientIdentity.DoesNotExist:  # no identity row: no register links either
                guarding.add(patient.pk)
    return sorted(guarding)
