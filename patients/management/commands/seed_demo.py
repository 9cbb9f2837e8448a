"""``manage.py seed_demo``: demo data for a presentation or a developer machine."""

from __future__ import annotations

import os
from importlib import import_module
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from patients.demo import DEMO_USERS, demo_seed


class Command(BaseCommand):
    help = "Load demo data (idempotent). Refuses to run under production settings."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--shared",
            type=Path,
            default=Path(settings.BASE_DIR).parent / "shared",
            help="the shared folder with data/ and specs/ (default: ../shared)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if os.environ.get("DJANGO_SETTINGS_MODULE", "").endswith(".production"):
            raise CommandError("seed_demo refuses to run under production settings.")
        shared: Path = options["shared"]
        if not (shared / "data" / "regions.csv").is_file():
            raise CommandError(f"--shared: no data/regions.csv under {shared}")
        password = os.environ.get("DEMO_PASSWORD") or "demo"
        summary = demo_seed(shared_dir=shared, password=password)
        # Each higher floor seeds its own demo data in its demo module, lowest floor first.
        notes: list[str] = []
        for config in apps.get_app_configs():
            if config.name == "patients":
                continue
            try:
                module = import_module(f"{config.name}.demo")
            except ModuleNotFoundError:
                continue
            notes += module.demo_seed(shared_dir=shared, password=password)
        self.stdout.write(
            f"Demo users: {', '.join(u.username for u in DEMO_USERS)} "
            "(password from DEMO_PASSWORD, default 'demo')."
        )
        if summary.already_imported:
            self.stdout.write("Sample register file: already imported.")
        else:
            self.stdout.write(
                f"Sample register file: {summary.created} created, {summary.updated} updated, "
                f"{summary.rejected} rejected."
            )
        for note in notes:
            self.stdout.write(note)
