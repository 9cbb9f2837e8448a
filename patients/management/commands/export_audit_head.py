"""Append the access log's chain head to a file outside the database (AUDIT-2).

Usage::

    python manage.py export_audit_head [--dir PATH]

Writes one JSON line (chain_seq, entry id, hash, sealed and export time) to
``audit-head-YYYY-MM-DD.jsonl`` in ``--dir`` or ``AUDIT_HEAD_EXPORT_DIR``; the task
``patients.tasks.export_audit_head`` does the same daily. An unchanged head is not written twice.
``verify_audit_chain --heads DIR`` checks the chain against these files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from patients.audit import AuditChainError, audit_head_export


class Command(BaseCommand):
    help = "Append the access log's chain head (AUDIT-2) to the day's file in the export directory."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dir",
            type=Path,
            default=None,
            help="Directory to write to (default: the AUDIT_HEAD_EXPORT_DIR setting).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory: Path = options["dir"] or Path(settings.AUDIT_HEAD_EXPORT_DIR)
        try:
            export = audit_head_export(directory=directory)
        except AuditChainError as exc:
            raise CommandError(str(exc)) from exc
        head = export.head
        what = "Exported" if export.written else "Unchanged since the last export:"
        self.stdout.write(
            f"{what} chain head chain_seq {head.chain_seq} (access entry id {head.entry_id}), "
            f"hash {head.entry_hash} -> {export.path}"
        )
