"""Background work of the patients floor. Tasks carry no personal data (LEAK-1): these take no
arguments at all, and read what they need from the database."""

from __future__ import annotations

import logging
from pathlib import Path

from celery import shared_task
from django.conf import settings

from patients.audit import access_entries_seal, audit_head_export

logger = logging.getLogger(__name__)

# One run seals at most SEAL_BATCH_SIZE * SEAL_MAX_BATCHES entries, one transaction per batch so
# the sealer's lock is held briefly; whatever is left is sealed by the next run.
SEAL_BATCH_SIZE = 1000
SEAL_MAX_BATCHES = 50


@shared_task
def seal_access_entries() -> int:
    """AUDIT-2: seal the access entries committed since the last run (every minute, by beat).

    Safe to run twice or at the same time: sealers take turns on an advisory lock, and each
    seals only entries that are still unsealed when it holds the lock.
    """
    total = 0
    for _ in range(SEAL_MAX_BATCHES):
        sealed = access_entries_seal(batch_size=SEAL_BATCH_SIZE)
        total += sealed
        if sealed < SEAL_BATCH_SIZE:
            break
    logger.info("sealed %d access entries", total)
    return total


@shared_task
def export_audit_head() -> None:
    """AUDIT-2: append the chain head to the day's file outside the database (daily, by beat).

    Safe to run twice: an unchanged head is not written again.
    """
    export = audit_head_export(directory=Path(settings.AUDIT_HEAD_EXPORT_DIR))
    logger.info(
        "audit chain head chain_seq %d %s %s",
        export.head.chain_seq,
        "exported to" if export.written else "already in",
        export.path,
    )
