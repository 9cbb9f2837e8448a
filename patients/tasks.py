"""Background work of the patients floor. Tasks carry no personal data (LEAK-1): these take no
arguments at all, and read what they need from the database."""

from __future__ import annotations

import logging
from pathlib import Path

from celery import shared_task
from django.conf import settings

from patients.audit import access_entries_seal, audit_head_export
from patients.navet.refresh import register_inbox_import

logger = logging.getLogger(__name__)

# One run seals at most SEAL_BATCH_SIZE * SEAL_MAX_BATCHES entries, one transaction per batch so
# the sealer's lock is held briefly; whatever is left is sealed by the next run.
SEAL_BATCH_SIZE = 1000
SEAL_MAX_BATCHES = 50


@shared_task
def seal_access_entries() -> int:
    """AUDIT-2: seal the access entries committed since the last run (every minute, by beat),
    then append the new chain head to the day's file outside the database.

    Exporting at every seal leaves no sealed entry behind the latest exported head, so the owner
    cannot remove the newest entries unnoticed (``verify_audit_chain`` compares the chain with
    the latest export). The head is exported after the batches have committed: a head that was
    rolled back is never exported. Safe to run twice or at the same time: sealers take turns on
    an advisory lock, each seals only entries still unsealed when it holds the lock, and an
    unchanged head is not written again.
    """
    total = 0
    for _ in range(SEAL_MAX_BATCHES):
        sealed = access_entries_seal(batch_size=SEAL_BATCH_SIZE)
        total += sealed
        if sealed < SEAL_BATCH_SIZE:
            break
    logger.info("sealed %d access entries", total)
    if total:
        _head_export()
    return total


@shared_task
def export_audit_head() -> None:
    """AUDIT-2: append the chain head to the day's file outside the database (daily, by beat),
    so that each day's file holds the head even on a day nothing was sealed.

    Safe to run twice: an unchanged head is not written again.
    """
    _head_export()


def _head_export() -> None:
    export = audit_head_export(directory=Path(settings.AUDIT_HEAD_EXPORT_DIR))
    logger.info(
        "audit chain head chain_seq %d %s %s",
        export.head.chain_seq,
        "exported to" if export.written else "already in",
        export.path,
    )


@shared_task
def refresh_register() -> dict[str, int]:
    """REG-3: the daily register refresh from the extract files in ``NAVET_INBOX_DIR`` (beat,
    every morning). Takes no arguments and is safe twice: a file applied once is reported as
    already imported, and a refused file stays in the inbox and is logged by name."""
    summary = register_inbox_import(directory=Path(settings.NAVET_INBOX_DIR))
    logger.info(
        "register refresh: %d files, %d created, %d updated, %d refused, %d already imported",
        summary.files,
        summary.created,
        summary.updated,
        len(summary.errors),
        len(summary.already_imported),
    )
    return {
        "files": summary.files,
        "created": summary.created,
        "updated": summary.updated,
        "refused": len(summary.errors),
    }
