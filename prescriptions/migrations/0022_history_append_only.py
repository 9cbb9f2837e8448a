"""LEAK-6: the application role only adds to the history of staff applications (STAFF-1) and of
agreement rows (CAT-1), as to every other history table."""

from typing import Any

from django.db import migrations

from patients.dbroles import append_only_for_application, writable_for_application

HISTORY_TABLES = (
    "prescriptions_staffapplicationtransition",
    "prescriptions_agreementrowtransition",
)


def revoke(apps: Any, schema_editor: Any) -> None:
    append_only_for_application(schema_editor, HISTORY_TABLES)


def grant_back(apps: Any, schema_editor: Any) -> None:
    writable_for_application(schema_editor, HISTORY_TABLES)


class Migration(migrations.Migration):
    dependencies = [("prescriptions", "0021_consumables")]

    operations = [migrations.RunPython(revoke, grant_back)]
