"""Background work of the billing floor. Tasks take ids (LEAK-1) and are safe to run twice: the
service finds an account already moved and does nothing."""

from __future__ import annotations

from celery import shared_task

from billing.services.protected import account_protect, accounts_protect_sweep
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
