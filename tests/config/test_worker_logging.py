"""LEAK-1 for the worker's log: a real Celery worker logs through the redaction filter.

A task that fails with an identity number and a failing row in its error (as a database error
quoting free text would) must not put either into the worker's log.
"""

from __future__ import annotations

import time

import pytest

from config.logging import REDACTED, ROW_REMOVED
from prescriptions.tasks import reroute_for_protected_patient
from tests.celery_worker import CeleryWorker, celery_worker_process  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

NUMBER = "19891222-2398"  # a test personnummer (IDENT-4)


def test_leak_1_the_worker_log_is_redacted(
    celery_worker_process: CeleryWorker,  # noqa: F811
) -> None:
    # Only this test puts an identity number in a task argument: the net under LEAK-1's rule.
    reroute_for_protected_patient.delay(f"{NUMBER} Failing row contains (x, Hemlig Gömdasson)")
    deadline = time.monotonic() + 30
    while "raised unexpected" not in celery_worker_process.log():
        assert time.monotonic() < deadline, celery_worker_process.log()
        time.sleep(0.2)
    log = celery_worker_process.log()
    assert NUMBER not in log
    assert NUMBER.replace("-", "") not in log
    assert "Hemlig" not in log
    assert REDACTED in log or ROW_REMOVED in log
