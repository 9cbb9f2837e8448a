"""Celery tasks of the document pipeline. Arguments are internal ids only (LEAK-1).

Each task re-reads what it needs and calls a service that claims its rows, so a message
delivered twice, or given back when its worker was lost (acks late), does nothing twice. The
services send these tasks by name (``services.jobs``): this module imports them, never the
reverse.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from protection.documents import services


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.DOCUMENT_RENDER_SOFT_SECONDS,
    time_limit=settings.DOCUMENT_RENDER_HARD_SECONDS,
    # Only the named transient errors are retried, with exponential backoff; the service has
    # given the job back first, so the retry can claim it.
    autoretry_for=services.TRANSIENT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=5,
)
def render_document(job_id: int) -> str:
    return services.document_job_render(job_id=job_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def withdraw_documents(patient_id: int) -> int:
    """PRINT-3: the patient became protected."""
    return services.documents_withdraw_for_patient(patient_id=patient_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def documents_sweep() -> dict[str, int]:
    return services.documents_sweep()
