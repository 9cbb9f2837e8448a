"""Background work of the billing floor. Tasks take ids only (LEAK-1), re-read the rows and call
a service, and are safe to run twice: an account already moved is left as it is, and an invoice
is claimed before it is sent, so a message delivered twice sends once."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from billing.services import outbox
from billing.services.protected import account_protect, accounts_protect_sweep
from billing.transport import TransportError
from patients.tasking import task_send

PROTECT = "billing.tasks.protect_account"


@shared_task(name=PROTECT)
def protect_account(patient_id: int) -> bool:
    """BILL-2, LEAK-4: move the person's account to a secret number."""
    return account_protect(patient_id=patient_id) is not None


@shared_task(name="billing.tasks.sweep_protected_accounts")
def sweep_protected_accounts() -> int:
    """Accounts a lost message left under an ordinary number."""
    return accounts_protect_sweep()


def protection_added(patient_id: int) -> None:
    """``protection.registry.protection_added_handlers`` (called after the commit)."""
    task_send(PROTECT, patient_id, what="billing account move for patient")


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
