"""Background work of the prescriptions floor, run by Celery beat (config/settings/base.py).

The tasks take no arguments, so no personal data can reach the broker (LEAK-1); the services
they call claim rows with conditional UPDATEs, so a retry or an overlapping run does nothing
twice. The DB is the record of work.
"""

from __future__ import annotations

from celery import shared_task

from prescriptions.services import activity


@shared_task
def close_stale_consultation_activities() -> int:
    """PRESC-7: close activities without a booked time after three days."""
    return activity.consultation_activities_close_stale()


@shared_task
def remind_unsigned_risk_assessments() -> int:
    """PRESC-6: remind prescribers of risk assessments still to sign."""
    return activity.signature_reminders_send()
