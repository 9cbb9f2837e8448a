"""Transactional tests and the append-only access log (AUDIT-2).

The access log's trigger refuses DELETE, and TRUNCATE of a non-empty log, so the flush that ends
a transactional test fails once the test has written an access entry. A test that does (through
``transactional_db``, ``live_server`` or ``celery_worker_process``) uses ``access_log_cleared``:
its teardown, which runs before the flush, removes the entries as the table owner with the row
trigger disabled inside one transaction, so the trigger is never off for any other session.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest


@pytest.fixture
def access_log_cleared(
    transactional_db: None, owner_connection: psycopg.Connection[Any]
) -> Iterator[None]:
    yield
    with owner_connection.transaction(), owner_connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE patients_accessentry DISABLE TRIGGER accessentry_append_only_row"
        )
        cursor.execute("DELETE FROM patients_accessentry")
        cursor.execute(
            "ALTER TABLE patients_accessentry ENABLE TRIGGER accessentry_append_only_row"
        )
