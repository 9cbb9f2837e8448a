"""LEAK-6: the admin's own history (``django_admin_log``, where account changes made in the
admin are listed too) is append-only for the application role, as the other history tables are
(``patients.dbroles``). The admin only ever adds to it."""

from typing import Any

from django.db import migrations

from patients.dbroles import append_only_for_application, writable_for_application

_TABLES = ("django_admin_log",)


def revoke(apps: Any, schema_editor: Any) -> None:
    append_only_for_application(schema_editor, _TABLES)


def grant_back(apps: Any, schema_editor: Any) -> None:
    writable_for_application(schema_editor, _TABLES)


class Migration(migrations.Migration):
    dependencies = [("protection", "0015_documents_kept"), ("admin", "0003_logentry_add_action_flag_choices")]

    operations = [migrations.RunPython(revoke, grant_back)]
