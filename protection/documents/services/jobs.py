"""The document job's state machine (house style 4) and the send of its render task.

Every move of a job goes through ``patients.transitions`` with :data:`DOCUMENT_JOB`: the table
below is the one list of allowed moves, and each move writes its history row. The render task is
sent by name (``patients.tasking``), so these services never import the task module; the task
module imports them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.utils import timezone

from patients.tasking import task_send_on_commit
from patients.transitions import CREATED, StateMachine, history_record, transition_apply
from protection.models import DocumentJob, DocumentJobTransition, DocumentState

S = DocumentState

DOCUMENT_JOB = StateMachine(
    name="document job",
    moves={
        # Refused at once: a member of a batch is recorded refused, so the batch shows it.
        CREATED: frozenset({S.QUEUED, S.REFUSED}),
        S.QUEUED: frozenset({S.RENDERING, S.CANCELLED, S.FAILED}),
        # Back to queued: a transient error released the claim, or a lost worker's claim ran
        # out and another worker claims it again (rendering -> rendering).
        S.RENDERING: frozenset({S.READY, S.REFUSED, S.QUEUED, S.RENDERING, S.CANCELLED, S.FAILED}),
        S.READY: frozenset({S.WITHDRAWN}),
    },
    history_model=DocumentJobTransition,
    subject_field="job",
)
OPEN_STATES = (S.QUEUED, S.RENDERING)
# A job in one of these states is never rendered again. Its snapshot (what the document shows,
# identity included) goes with the move: the PDF, or nothing, is what is kept (PRINT-3, LEAK-3).
FINAL_STATES = frozenset({S.READY, S.REFUSED, S.CANCELLED, S.FAILED, S.WITHDRAWN})
# A job no worker holds: set whenever a claim ends.
NO_CLAIM: dict[str, Any] = {"claim_token": None, "claim_expires_at": None}

RENDER_TASK = "protection.documents.tasks.render_document"
WITHDRAW_TASK = "protection.documents.tasks.withdraw_documents"


def job_move(job: DocumentJob, to_state: str, *, note: str = "", **fields: Any) -> None:
    """Move a job the caller holds in its transaction, with ``fields``, and write the history
    row (``patients.transitions.transition_apply`` with :data:`DOCUMENT_JOB`). A move to a
    final state drops the snapshot."""
    if to_state in FINAL_STATES:
        fields["snapshot"] = None
    transition_apply(machine=DOCUMENT_JOB, obj=job, to_state=to_state, note=note, **fields)


# The claim: one conditional UPDATE that moves the job to rendering and returns it, with the state
# it was in (read under the same row lock) for its history row. A queued job, or one whose claim
# ran out (its worker was lost), and not tried too often.
_CLAIM_SQL = """
UPDATE protection_documentjob AS job
SET state = %(to)s, claim_token = %(token)s, claim_expires_at = %(expires)s,
    attempts = job.attempts + 1
FROM (SELECT id, state FROM protection_documentjob WHERE id = %(id)s FOR UPDATE) AS before
WHERE job.id = before.id AND job.attempts < %(max_attempts)s
  AND (job.state = %(queued)s OR (job.state = %(to)s AND job.claim_expires_at < %(now)s))
RETURNING job.*, before.state AS claimed_from
"""


def job_claim(
    *, job_id: int, max_attempts: int, now: datetime, expires: datetime
) -> DocumentJob | None:
    """In the caller's transaction: take the job for this worker with a conditional UPDATE
    counted by its row, and write the move's history row (checked against
    :data:`DOCUMENT_JOB`). None when someone else holds it, it is done, or it was tried
    ``max_attempts`` times. The job comes back read, locked and claimed, with its new token."""
    claimed = list(
        DocumentJob.objects.raw(
            _CLAIM_SQL,
            {
                "id": job_id,
                "to": S.RENDERING.value,
                "queued": S.QUEUED.value,
                "token": uuid.uuid4(),
                "now": now,
                "expires": expires,
                "max_attempts": max_attempts,
            },
        )
    )
    if len(claimed) != 1:
        return None
    job = claimed[0]
    from_state: str = job.claimed_from  # type: ignore[attr-defined]  # the statement's own column
    DOCUMENT_JOB.check(job, from_state, S.RENDERING)
    history_record(
        machine=DOCUMENT_JOB,
        obj=job,
        from_state=from_state,
        to_state=S.RENDERING,
        note="" if from_state == S.QUEUED else "claim expired",
    )
    return job


def job_close(job: DocumentJob, to_state: str, *, note: str, reason: str = "") -> None:
    """End a job's life (refused, failed, cancelled): the claim goes, the end is recorded."""
    job_move(job, to_state, note=note, state_reason=reason, finished_at=timezone.now(), **NO_CLAIM)


def job_render_send_on_commit(job_id: int) -> None:
    """Send the render task when the transaction commits; a broker outage leaves the job queued
    for the sweeper (``documents_sweep``)."""
    task_send_on_commit(RENDER_TASK, job_id, what="document job")
