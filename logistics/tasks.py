"""Background work of the logistics floor, run by Celery beat (config/settings/base.py). Tasks
take ids or nothing (LEAK-1) and are safe to run twice: the services claim their rows with
conditional UPDATEs."""

from __future__ import annotations

from celery import shared_task

from logistics.services.reservations import reservations_lapse


@shared_task
def lapse_draft_reservations() -> int:
    """LOG-1: end the lapsed reservations of drafts never submitted; tell their prescribers."""
    return reservations_lapse()
