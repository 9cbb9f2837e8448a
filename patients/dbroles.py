"""The application role in migrations: its name, and history tables it may only append to.

LEAK-6, AUDIT-2. Migrations run as the owner of the tables; the application role (the USER of
``DATABASES["default"]``, docs/operations.md "Database roles") gets SELECT, INSERT, UPDATE and
DELETE on every table by default (protection 0004_row_level_security). A history or audit table
must take UPDATE and DELETE back in the migration that creates it: pghistory's append-only
triggers skip themselves for any session that names them in ``pgtrigger.ignore``, a setting
every role may set, so only missing privileges hold against the application role.
tests/protection/test_history_append_only.py finds every history table and checks this.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections


def application_role(schema_editor: Any) -> str:
    """The application role, quoted; refused when the migration runs as that role itself."""
    app_role = connections[DEFAULT_DB_ALIAS].settings_dict["USER"]
    if not app_role:
        raise RuntimeError(
            'DATABASES["default"] names no USER: the application role must be named in '
            "DATABASE_URL so that this migration can set its privileges"
        )
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        if cursor.fetchone()[0] == app_role:
            raise RuntimeError(
                f"this migration runs as {app_role!r}, the application role of DATABASE_URL: run "
                "migrations as the owner role (manage.py migrate --database owner)"
            )
    quoted: str = schema_editor.quote_name(app_role)
    return quoted


def append_only_for_application(schema_editor: Any, tables: Iterable[str]) -> None:
    """The application role may read and add rows of ``tables``, never change or remove one."""
    app = application_role(schema_editor)
    with schema_editor.connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"REVOKE UPDATE, DELETE ON {schema_editor.quote_name(table)} FROM {app}")


def writable_for_application(schema_editor: Any, tables: Iterable[str]) -> None:
    """The reverse: the default privileges back (UPDATE and DELETE)."""
    app = application_role(schema_editor)
    with schema_editor.connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"GRANT UPDATE, DELETE ON {schema_editor.quote_name(table)} TO {app}")
