"""``manage.py export_invoices --month YYYY-MM --out DIR``: one UBL XML file per issued invoice
and credit note of the billing month (the month its period begins in, as ``billing_run
--month`` invoices it and its credit notes repeat it; a document without a period by its issue
date), named by its number (``F12.xml``, ``K3.xml``). The bytes are the
stored XML exactly as validated and issued, never rendered again, so the export is what the
receiver got. A document to a protected person (a secret customer number, or a holder protected
since) is never written (BILL-2, LEAK-4): it is invoiced by hand, and the summary counts it as
``manual``. Each file is written atomically (a temporary file, then a rename); a JSON summary
(files, and the count per kind) goes to stdout."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from billing.models import Invoice
from billing.months import month_end, month_parse


class Command(BaseCommand):
    help = "Write the month's issued invoices and credit notes as UBL XML files, one per document."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", required=True, help="YYYY-MM (the billing month)")
        parser.add_argument("--out", required=True, help="directory to write into (created)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            month = month_parse(options["month"])
        except ValueError as error:
            raise CommandError(f"--month: {error}") from error
        out = Path(options["out"])
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CommandError(f"--out: cannot create {out}: {error.strerror}") from error
        last = month_end(month)
        in_month = Invoice.objects.filter(
            Q(period_start__gte=month, period_start__lte=last)
            | Q(period_start__isnull=True, issue_date__gte=month, issue_date__lte=last)
        )
        protected = Q(buyer_account__secret_customer_number__isnull=False) | Q(
            buyer_account__patient__is_protected=True
        )
        manual = in_month.filter(protected).count()
        documents = (
            in_month.exclude(protected)
            .order_by("series", "number")
            .values_list("series", "number", "kind", "ubl_xml")
        )
        files: list[str] = []
        kinds: dict[str, int] = {}
        # iterator(): a region's month can be thousands of documents; memory stays flat.
        for series, number, kind, xml in documents.iterator(chunk_size=200):
            name = f"{series}{number}.xml"
            _write_atomically(out / name, bytes(xml))
            files.append(name)
            kinds[kind] = kinds.get(kind, 0) + 1
        summary = {
            "month": month.strftime("%Y-%m"),
            "out": str(out),
            "files": files,
            "manual": manual,
            **kinds,
        }
        self.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True))


def _write_atomically(path: Path, content: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
