"""LEAK-6: the application role can neither change nor remove the state-transition history of
prescriptions and supply registrations; it may only add to it (``patients.dbroles``)."""

from typing import Any

from django.db import migrations

from patients.dbroles import append_only_for_application, writable_for_application

HISTORY_TABLES = (
    "prescriptions_prescriptiontransition",
    "prescriptions_supplyregistrationtransition",
)


def revoke(apps: Any, schema_editor: Any) -> None:
    append_only_for_application(schema_editor, HISTORY_TABLES)


def grant_back(apps: Any, schema_editor: Any) -> None:
    writable_for_application(schema_editor, HISTORY_TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("prescriptions", "0011_prescription_transition_record"),
        # After the grant of every table to the application role.
        ("protection", "0004_row_level_security"),
    ]

    operations = [migrations.RunPython(revoke, grant_back)]
