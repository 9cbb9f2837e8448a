"""STAFF-3, LEAK-6: a competence decision is the dated record of who decided a prescriber's
level; a newer decision supersedes it by being added, never by rewriting it. The application role
only adds decisions, as to every other history table (0022_history_append_only), and a
prescriber profile with decisions is protected from deletion rather than cascading into them."""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

from patients.dbroles import append_only_for_application, writable_for_application

TABLES = ("prescriptions_competencedecision",)


def revoke(apps: Any, schema_editor: Any) -> None:
    append_only_for_application(schema_editor, TABLES)


def grant_back(apps: Any, schema_editor: Any) -> None:
    writable_for_application(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [("prescriptions", "0022_history_append_only")]

    operations = [
        migrations.AlterField(
            model_name="competencedecision",
            name="prescriber",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="competence_decisions",
                to="prescriptions.prescriberprofile",
                verbose_name="prescriber",
            ),
        ),
        migrations.RunPython(revoke, grant_back),
    ]
