"""Background work of the protection floor, run by Celery beat (config/settings/base.py).

The tasks take no arguments, so no personal data can reach the broker (LEAK-1). Each one calls
services that claim their rows (a locked batch, a conditional update or a unique key), so a run
that overlaps another, or a retry after a lost worker, does nothing twice.
"""

from __future__ import annotations

from celery import shared_task

# The document pipeline's tasks live with it (protection/documents/tasks.py); imported here so
# that the worker's autodiscovery, which reads <app>.tasks, registers them.
from protection.documents.tasks import documents_sweep, render_document, withdraw_documents
from protection.services import case_end, grants, inactivity, local, register_events, reminders

__all__ = [
    "daily_protection_maintenance",
    "documents_sweep",
    "handle_case_closures",
    "handle_register_events",
    "render_document",
    "withdraw_documents",
]


@shared_task
def handle_register_events() -> int:
    """PROT-3/PROT-4: tell the responsible people what the register changed."""
    return register_events.register_events_handle()


@shared_task
def handle_case_closures() -> int:
    """ACCESS-8: end the grants of units whose last open case for the patient closed."""
    return case_end.case_closures_handle()


@shared_task
def daily_protection_maintenance() -> dict[str, int]:
    """ACCESS-2/5, PROT-6 and STAFF-2: end what has lapsed, remind before things end. Counts
    only. Unused accounts are deactivated before the grants are swept, and their users told."""
    return {
        "accounts_deactivated": inactivity.accounts_unused_deactivate(),
        "accounts_told": inactivity.accounts_unused_notify(),
        "grants_ended": grants.grants_end_lapsed(),
        "local_protections_ended": local.local_protections_lapse(),
        "local_protection_reminders": reminders.local_protections_remind(),
        "grant_reminders": reminders.grants_remind_before_end(),
    }
