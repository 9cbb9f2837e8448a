"""Verify the access log's hash chain (AUDIT-2) and name the first broken entry.

Usage::

    python manage.py verify_audit_chain [--batch-size N] [--heads PATH ...]

Walks the sealed entries in ``chain_seq`` order on a server-side cursor, recomputes each hash
and checks each link. Exits 0 and prints the count and the head hash when the chain holds;
exits 1 naming the first entry (id and chain_seq) that does not hold and why: a gap in
``chain_seq``, a broken link or a hash mismatch. With ``--heads`` (an exported head file or the
export directory) the chain must also agree with every exported head, which catches a chain
rewritten from some entry onward by someone able to bypass the database trigger. Entries not
yet sealed are counted, not treated as an error: the sealing task picks them up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from patients.audit import AuditChainError, ExportedHead, chain_verify, exported_heads_read


class Command(BaseCommand):
    help = "Recompute the access log's hash chain (AUDIT-2); exit 1 naming the first broken entry."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=2000,
            help="Entries fetched per round trip (default 2000).",
        )
        parser.add_argument(
            "--heads",
            type=Path,
            action="append",
            default=[],
            help=(
                "An exported head file or the export directory (audit-head-*.jsonl); the chain "
                "must match every head recorded there. May be given more than once."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size: int = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        try:
            exported: list[ExportedHead] = []
            for path in options["heads"]:
                exported.extend(exported_heads_read(path))
            report = chain_verify(batch_size=batch_size, exported_heads=exported)
        except AuditChainError as exc:
            raise CommandError(str(exc)) from exc
        unsealed = f"{report.unsealed} entries not yet sealed."
        if report.broken is not None:
            broken = report.broken
            raise CommandError(
                f"Audit chain broken at access entry id {broken.entry_id} "
                f"(chain_seq {broken.chain_seq}): {broken.problem}. "
                f"{report.verified} entries before it verified; {unsealed}"
            )
        head = report.head
        if head.entry_id is None:
            self.stdout.write(f"Audit chain is empty: nothing sealed yet. {unsealed}")
            return
        if exported:
            self.stdout.write(f"Checked against {len(exported)} exported heads.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain intact: {report.verified} entries verified; head chain_seq "
                f"{head.chain_seq} (access entry id {head.entry_id}), hash {head.entry_hash}. "
                f"{unsealed}"
            )
        )
