"""``python manage.py finance_export --month YYYY-MM --out FILE [--format sie]``: the month's
finance file (BILL-2). One file per run; a re-run with nothing new writes the same bytes. A
JSON summary on stdout names the export's number, digest, invoice count and total."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.errors import BillingError
from billing.models import ExportFormat
from billing.months import month_parse
from billing.services.finance import finance_export


class Command(BaseCommand):
    help = "Write the month's finance file (fixed-width customer invoices, or SIE 4i)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--out", required=True, help="the file to write")
        parser.add_argument(
            "--format", default=ExportFormat.FIXED, choices=[f.value for f in ExportFormat]
        )
        parser.add_argument("--user", default="", help="the billing officer's username")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            month = month_parse(options["month"])
        except ValueError as error:
            raise CommandError(f"--month: {error}") from error
        out = Path(options["out"])
        if not out.parent.is_dir():
            raise CommandError(f"--out: the folder {out.parent} does not exist")
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"--user: no user named {options['user']!r}")
        try:
            export = finance_export(month=month, export_format=options["format"], by=user)
        except BillingError as error:
            raise CommandError(str(error)) from error
        out.write_bytes(bytes(export.content))
        summary = {
            "export": export.number,
            "month": f"{month:%Y-%m}",
            "format": export.format,
            "invoices": export.invoice_count,
            "total_sek": str(export.total_sek),
            "sha256": export.sha256,
            "file": str(out),
        }
        self.stdout.write(json.dumps(summary, ensure_ascii=False))
