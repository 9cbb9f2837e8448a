"""``manage.py import_catalogue PATH [--product-areas PATH] [--json] [--dry-run]``.

The format is described in docs/catalogue.md; the work is ``catalogue_import``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from prescriptions.services.catalogue import (
    CatalogueFileError,
    CatalogueImportReport,
    catalogue_import,
)


class Command(BaseCommand):
    help = "Import the region's catalogue file (articles, agreements, replacement groups)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, metavar="PATH")
        parser.add_argument(
            "--product-areas",
            type=Path,
            metavar="PATH",
            help="load this product_areas.csv first (product and competence areas)",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object only")
        parser.add_argument(
            "--dry-run", action="store_true", help="check and count everything; write nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = catalogue_import(
                path=options["path"],
                product_areas_path=options["product_areas"],
                dry_run=options["dry_run"],
            )
        except CatalogueFileError as error:
            self.stderr.write(f"refused, nothing loaded: {error}")
            sys.exit(2)
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
        else:
            self._write_human(report)
        if report.rejected:
            # Something did not load: a script running the import should notice.
            sys.exit(1)

    def _write_human(self, report: CatalogueImportReport) -> None:
        areas = report.product_areas
        if areas is not None:
            self.stdout.write(
                f"product areas: {areas.rows} row(s): {areas.created} created, "
                f"{areas.updated} updated, {areas.unchanged} unchanged, "
                f"{areas.rejected} rejected; new competence areas "
                f"{areas.competence_areas_created}."
            )
            for rejection in areas.rejections:
                self.stdout.write(f"product areas: {rejection}")
        for rejection in report.rejections:
            self.stdout.write(f"rejected {rejection}")
        self.stdout.write(report.summary())
