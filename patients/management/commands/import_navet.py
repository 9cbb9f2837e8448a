"""``manage.py import_navet PATH [PATH ...] [--json] [--dry-run]``.

The contract is shared/specs/population-register.md.

Output never holds a name, personnummer or address: rejected records are named by their
position in the file and their PostId.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from patients.navet.importer import register_files_import
from patients.navet.summary import ImportSummary


class Command(BaseCommand):
    help = "Import population-register files (Skatteverket's Navetavisering format)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
        parser.add_argument("--json", action="store_true", help="print one JSON object only")
        parser.add_argument(
            "--dry-run", action="store_true", help="report what would change; write nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        summary = register_files_import(paths=options["paths"], dry_run=options["dry_run"])
        if options["json"]:
            self.stdout.write(json.dumps(summary.as_dict(), ensure_ascii=False))
        else:
            self._write_human(summary)
        for error in summary.errors:
            self.stderr.write(f"{error['file']}: refused, nothing applied: {error['error']}")
        if summary.errors:
            # Spec: exit status 2 when a file could not be read at all.
            sys.exit(2)

    def _write_human(self, summary: ImportSummary) -> None:
        prefix = "DRY RUN: nothing was written. " if summary.dry_run else ""
        self.stdout.write(
            f"{prefix}{summary.files} file(s), {summary.records} record(s): "
            f"{summary.created} created, {summary.updated} updated, "
            f"{summary.unchanged} unchanged, {summary.rejected} rejected; "
            f"protection added {summary.protection_added}, "
            f"protection removed {summary.protection_removed}, deceased {summary.deceased}."
        )
        for name in summary.already_imported:
            self.stdout.write(f"{name}: already imported; nothing changed.")
        for rejection in summary.rejections:
            post = f" (PostId {rejection['post_id']})" if rejection["post_id"] else ""
            self.stdout.write(
                f"{rejection['file']}: record {rejection['position']}{post} rejected: "
                f"{rejection['reason']}"
            )
