"""Celery tasks of the invoice outbox. Arguments are invoice ids only; each task re-reads the
row and calls a service that claims it, so a message delivered twice sends once."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from billing.services import outbox
from billing.transport import TransportError


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    # A transport that cannot take the invoice now is tried again with backoff; the error
    # stays on the invoice, and after the last retry the sweeper sends it again.
    autoretry_for=(TransportError,),
    retry_backoff=10,
    retry_backoff_max=900,
    retry_jitter=True,
    max_retries=6,
)
def send_invoice(invoice_id: int) -> bool:
    return outbox.invoice_send(invoice_id=invoice_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def outbox_sweep() -> dict[str, Any]:
    return outbox.outbox_sweep()
