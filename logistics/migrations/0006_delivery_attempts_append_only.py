"""A package's delivery attempts are history: the application role may add one, never change
or remove one (as 0002 does for the order and device histories)."""

from __future__ import annotations

from typing import Any

from django.db import migrations

from patients.dbroles import append_only_for_application, writable_for_application

HISTORY_TABLES = ("logistics_deliveryattempt",)


def revoke(apps: Any, schema_editor: Any) -> None:
    append_only_for_application(schema_editor, HISTORY_TABLES)


def grant_back(apps: Any, schema_editor: Any) -> None:
    writable_for_application(schema_editor, HISTORY_TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("logistics", "0005_device_search"),
    ]

    operations = [
        migrations.RunPython(revoke, grant_back),
    ]
