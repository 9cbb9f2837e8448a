"""Writes of the document pipeline, by concern (see docs/documents.md):

- ``ban``: the printing ban (PRINT-1/2, LETTER-1), asked at the request, in the worker and at
  the download;
- ``requests``: ``document_request``, the only way to make a document, and batches;
- ``jobs``: the job's state machine and the send of its render task;
- ``worker``: the render task's body and the sweeper;
- ``withdrawal``: PRINT-3.

The task module (``protection.documents.tasks``) imports these; these send tasks by name and
never import it. The names below are the pipeline's public ones.
"""

from protection.documents.services.ban import (
    REFUSED_PROTECTED,
    DocumentError,
    DocumentRefused,
    subject_decision,
    subject_guards,
    subject_refusal,
)
from protection.documents.services.requests import document_batch_request, document_request
from protection.documents.services.withdrawal import (
    WITHDRAWN_PROTECTED,
    documents_withdraw_for_patient,
    withdraw_send,
)
from protection.documents.services.worker import (
    FAILED_RENDER,
    TRANSIENT_ERRORS,
    document_job_render,
    documents_sweep,
)

__all__ = [
    "FAILED_RENDER",
    "REFUSED_PROTECTED",
    "TRANSIENT_ERRORS",
    "WITHDRAWN_PROTECTED",
    "DocumentError",
    "DocumentRefused",
    "document_batch_request",
    "document_job_render",
    "document_request",
    "documents_sweep",
    "documents_withdraw_for_patient",
    "subject_decision",
    "subject_guards",
    "subject_refusal",
    "withdraw_send",
]
