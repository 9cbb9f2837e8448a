from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from patients.services import roles_sync


class Command(BaseCommand):
    help = "Create the role groups and give each exactly the permissions its role needs."

    def handle(self, *args: Any, **options: Any) -> None:
        for role, count in roles_sync().items():
            self.stdout.write(f"{role}: {count} permission(s)")
