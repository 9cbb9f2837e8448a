"""Name the job a transaction runs for, so that PostgreSQL's row-level security can tell.

The identifying tables (``patients_patientidentity``, ``patients_patientrelation``) are guarded
by row-level security (protection/migrations/0004_row_level_security.py): a row of a protected
patient, or of a patient linked to one, is visible only to a user with a grant or emergency
access in force, or in a transaction whose setting ``hjm.context`` is ``'system'``. That
context is for the few jobs that must see every patient: the Navet import, key rotation, the
import benchmark. Nothing else may use it; code acting for a user goes through the gate.

This helper lives on the lowest floor because the Navet import needs it and imports nothing
above the patients floor; ``protection.rls`` builds on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, transaction

SYSTEM = "system"


@contextmanager
def db_context(name: str, *, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Run the block in a transaction (or a savepoint of the caller's) with ``hjm.context``.

    The setting is transaction-local (``set_config(..., true)``), so it can never outlive the
    transaction, and no other session, nor a connection reused by a later request, sees it.
    Nested in a caller's transaction, the caller's value is put back when the block ends; if
    the block raises, rolling back its savepoint or transaction undoes the setting instead
    (and a query in an aborted transaction would fail).
    """
    connection = connections[using]
    # Opening the transaction, there is no caller's value to keep or put back: the setting
    # ends with the transaction. Two statements fewer for a worker's own transactions.
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            if outermost:
                previous = None
            else:
                cursor.execute("SELECT current_setting('hjm.context', true)")
                row = cursor.fetchone()
                previous = row[0] if row is not None and row[0] is not None else ""
            cursor.execute("SELECT set_config('hjm.context', %s, true)", [name])
        yield
        if previous is not None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('hjm.context', %s, true)", [previous])
