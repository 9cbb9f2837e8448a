"""``manage.py export_catalogue PATH``: the catalogue in the import's format (CAT-2).

The format is described in docs/catalogue.md; the work is ``catalogue_export``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from prescriptions.services.catalogue_export import catalogue_export


class Command(BaseCommand):
    help = "Export the catalogue (articles and agreements) for the national catalogue."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, metavar="PATH")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            rows = catalogue_export(path=options["path"])
        except OSError as error:
            raise CommandError(f"{options['path']}: cannot be written: {error.strerror}") from error
        self.stdout.write(f"{rows} article(s) written to {options['path']}.")
