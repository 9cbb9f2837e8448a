"""Verify the access log's hash chain (AUDIT-2) and name every broken entry.

Usage::

    python manage.py verify_audit_chain [--batch-size N] [--heads PATH ... | --without-heads]

Walks all sealed entries in ``chain_seq`` order on a server-side cursor, recomputes each hash
and checks each link. Exits 0 and prints the count and the head hash when the chain holds;
exits 1 listing every place that does not hold, each with the stretch of ``chain_seq`` (and the
entry ids) it covers and why: a gap, a broken link, a hash mismatch, a difference from an
exported head, or a chain that ends before the latest exported head. The chain is checked
against the heads exported to ``AUDIT_HEAD_EXPORT_DIR`` (or the files and directories given
with ``--heads``), which catches a chain rewritten, or cut short, by someone able to bypass the
database trigger; ``--without-heads`` checks the chain on its own, for a copy of the database
away from that storage. Entries not yet sealed are counted, not treated as an error: the
sealing task picks them up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from patients.audit import AuditChainError, ExportedHead, chain_verify, exported_heads_read


class Command(BaseCommand):
    help = "Recompute the access log's hash chain (AUDIT-2); exit 1 naming every broken entry."

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
                "must match every head recorded there. May be given more than once. Default: "
                "the AUDIT_HEAD_EXPORT_DIR setting."
            ),
        )
        parser.add_argument(
            "--without-heads",
            action="store_true",
            help="Check the chain on its own, against no exported head.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size: int = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        heads: list[Path] = options["heads"]
        if options["without_heads"]:
            if heads:
                raise CommandError("--heads and --without-heads exclude each other")
        elif not heads:
            heads = [Path(settings.AUDIT_HEAD_EXPORT_DIR)]
        try:
            exported: list[ExportedHead] = []
            for path in heads:
                if not path.exists():
                    raise AuditChainError(
                        f"The exported heads at {path} do not exist: mount the append-only "
                        "storage there, give --heads, or check the chain on its own with "
                        "--without-heads."
                    )
                exported.extend(exported_heads_read(path))
            report = chain_verify(batch_size=batch_size, exported_heads=exported)
        except AuditChainError as exc:
            raise CommandError(str(exc)) from exc
        unsealed = f"{report.unsealed} entries not yet sealed."
        if report.breaks:
            lines = [f"- {broken.where()}: {broken.problem}" for broken in report.breaks]
            count = len(report.breaks)
            raise CommandError(
                f"Audit chain broken ({count} {'break' if count == 1 else 'breaks'}):\n"
                + "\n".join(lines)
                + f"\n{report.verified} entries verified; {unsealed}"
            )
        head = report.head
        if not options["without_heads"]:
            self.stdout.write(f"Checked against {len(exported)} exported heads.")
        if head.entry_id is None:
            self.stdout.write(f"Audit chain is empty: nothing sealed yet. {unsealed}")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain intact: {report.verified} entries verified; head chain_seq "
                f"{head.chain_seq} (access entry id {head.entry_id}), hash {head.entry_hash}. "
                f"{unsealed}"
            )
        )
