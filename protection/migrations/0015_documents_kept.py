"""LEAK-6, house rule 7: issued documents and letters cannot be deleted by the application role.

Their ``document_kept`` and ``letter_kept`` triggers refuse a delete, but pgtrigger lets any
session skip a trigger it names in the ``pgtrigger.ignore`` setting, which every role may set.
The product never deletes a document or a letter (a withdrawal empties the content), so the
application role loses the privilege itself; the triggers stay for the owner.
"""

from typing import Any

from django.db import migrations

from patients.dbroles import application_role

_TABLES = ("protection_document", "protection_letter")


def revoke(apps: Any, schema_editor: Any) -> None:
    app = application_role(schema_editor)
    with schema_editor.connection.cursor() as cursor:
        for table in _TABLES:
            cursor.execute(f"REVOKE DELETE ON {schema_editor.quote_name(table)} FROM {app}")


def grant_back(apps: Any, schema_editor: Any) -> None:
    app = application_role(schema_editor)
    with schema_editor.connection.cursor() as cursor:
        for table in _TABLES:
            cursor.execute(f"GRANT DELETE ON {schema_editor.quote_name(table)} TO {app}")


class Migration(migrations.Migration):
    dependencies = [("protection", "0014_account_changes")]

    operations = [migrations.RunPython(revoke, grant_back)]
