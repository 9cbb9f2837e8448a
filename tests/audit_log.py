"""Transactional tests and the append-only access log (AUDIT-2).

The access log's trigger refuses DELETE, and TRUNCATE of a non-empty log, so the flush that ends
a transactional test fails once the test has written an access entry. A test that does (through
``transactional_db``, ``live_server`` or ``celery_worker_process``) uses ``access_log_cleared``:
its teardown, which runs before the flush, removes the entries as the table owner with the row
trigger disabled inside one transaction, so the trigger is never off for any other session.

The helpers below write entries, verify the chain and tamper with it as the table's owner would,
for the tests of the chain (tests/patients/test_audit_chain*.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO
from typing import Any

import psycopg
import pytest
from django.core.management import call_command

from patients.models import AccessAction, AccessEntry, AccessOutcome, Patient
from patients.services import Actor, access_entry_record

ROW_TRIGGER = "accessentry_append_only_row"
ACTOR = Actor(user_id=None, unit_id=None, ip_address="10.1.2.3", session_ref="0123456789abcdef")


@pytest.fixture
def access_log_cleared(
    transactional_db: None, owner_connection: psycopg.Connection[Any]
) -> Iterator[None]:
    yield
    with owner_connection.transaction(), owner_connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE patients_accessentry DISABLE TRIGGER {ROW_TRIGGER}")
        cursor.execute("DELETE FROM patients_accessentry")
        cursor.execute(f"ALTER TABLE patients_accessentry ENABLE TRIGGER {ROW_TRIGGER}")


def record(n: int = 1) -> list[AccessEntry]:
    """``n`` access entries about one patient, through the service every access uses."""
    patient = Patient.objects.create()
    return [
        access_entry_record(
            actor=ACTOR,
            action=AccessAction.READ,
            outcome=AccessOutcome.DENIED,
            patient=patient,
            object_type="patient",
            object_id=patient.reference,
        )
        for _ in range(n)
    ]


def verify(*args: str) -> str:
    out = StringIO()
    call_command("verify_audit_chain", *args, stdout=out)
    return out.getvalue()


@contextmanager
def trigger_disabled(owner: Any) -> Iterator[Any]:
    """What only the table owner can do (an attacker with owner rights): write past the trigger.

    The application role cannot: it owns no table. The tampering commits when the block ends,
    so these tests run with committed data (``transaction=True``)."""
    with owner.transaction(), owner.cursor() as cursor:
        cursor.execute(f"ALTER TABLE patients_accessentry DISABLE TRIGGER {ROW_TRIGGER}")
        try:
            yield cursor
        finally:
            # PostgreSQL alters no table with pending trigger events: run the deferred
            # foreign-key checks of the tampering first.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE patients_accessentry ENABLE TRIGGER {ROW_TRIGGER}")
