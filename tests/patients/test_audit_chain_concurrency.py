"""AUDIT-2: the chain stays whole when entries are written and sealed at the same time, commit
late, or are sealed by a real worker; and the verify command's exit status from a shell.

Everything runs on the real PostgreSQL: the trigger, the advisory lock and the server-side
cursor are the database's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection, transaction

from patients.audit import (
    access_entries_seal,
    unsealed_count,
)
from patients.models import AccessEntry
from patients.tasks import seal_access_entries
from tests.audit_log import (
    access_log_cleared,  # noqa: F401 (a fixture, used by name)
    record,
    trigger_disabled,
    verify,
)
from tests.celery_worker import (  # noqa: F401 (a fixture, used by name)
    CeleryWorker,
    celery_worker_process,
    current_database_url,
)

ROOT = Path(__file__).resolve().parents[2]


# --- concurrency, late commits, a real worker ------------------------------------------------
# These need committed data: transactional, with serialized rollback as the suite's other
# transactional tests (the migrations' rows come back after the flush), and the access entries
# removed before the flush (tests/audit_log.py).


def start_thread(target: Callable[[], None], errors: list[BaseException]) -> threading.Thread:
    """Run ``target`` on a thread with its own connection, closed at the end so the flush is
    not blocked; what it raises goes to ``errors`` for the test to check."""

    def run() -> None:
        try:
            target()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("access_log_cleared")
def test_audit_2_an_entry_committed_after_higher_ids_were_sealed_is_sealed_next():
    """Ids are taken at insert, commits come in another order: the chain is in sealing order."""
    inserted, release = threading.Event(), threading.Event()
    slow: dict[str, int] = {}

    def slow_request() -> None:
        with transaction.atomic():
            slow["id"] = record(1)[0].pk
            inserted.set()
            release.wait(10)

    errors: list[BaseException] = []
    thread = start_thread(slow_request, errors)
    try:
        assert inserted.wait(10)
        (fast,) = record(1)  # a later id, committed first
        assert access_entries_seal() == 1
    finally:
        release.set()
        thread.join(10)
    assert errors == []
    assert slow["id"] < fast.pk

    assert access_entries_seal() == 1
    late = AccessEntry.objects.get(pk=slow["id"])
    fast.refresh_from_db()
    assert (fast.chain_seq, late.chain_seq) == (1, 2)
    assert late.prev_hash == fast.entry_hash
    assert "2 entries verified" in verify()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("access_log_cleared")
def test_audit_2_two_sealers_at_once_never_share_a_position():
    record(120)
    start = threading.Barrier(2)
    sealed: list[int] = []

    def sealer() -> None:
        start.wait(10)
        while count := access_entries_seal(batch_size=7):
            sealed.append(count)

    errors: list[BaseException] = []
    threads = [start_thread(sealer, errors) for _ in range(2)]
    for thread in threads:
        thread.join(60)

    assert errors == []  # neither sealer ran into the other (the advisory lock)
    assert sum(sealed) == 120
    positions = list(AccessEntry.objects.order_by("chain_seq").values_list("chain_seq", flat=True))
    assert positions == list(range(1, 121))
    assert "120 entries verified" in verify()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("access_log_cleared")
def test_audit_2_logging_is_not_blocked_while_a_sealer_holds_its_lock():
    record(3)
    sealing, release = threading.Event(), threading.Event()

    def slow_sealer() -> None:
        with transaction.atomic():
            access_entries_seal()  # holds the advisory lock and the sealed rows until commit
            sealing.set()
            release.wait(10)

    errors: list[BaseException] = []
    thread = start_thread(slow_sealer, errors)
    try:
        assert sealing.wait(10)
        with transaction.atomic(), connection.cursor() as cursor:
            # Fail instead of waiting should the insert need any lock the sealer holds.
            cursor.execute("SET LOCAL lock_timeout = '2s'")
            record(1)
    finally:
        release.set()
        thread.join(10)
    assert errors == []
    assert unsealed_count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("access_log_cleared")
def test_audit_2_verify_command_exit_status_from_the_shell(owner_connection, audit_head_dir):
    entries = record(3)
    access_entries_seal()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": current_database_url(),
        "AUDIT_HEAD_EXPORT_DIR": str(audit_head_dir),
    }
    command = [sys.executable, "manage.py", "verify_audit_chain"]

    intact = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert intact.returncode == 0, intact.stderr
    assert "Audit chain intact: 3 entries verified" in intact.stdout

    with trigger_disabled(owner_connection) as cursor:
        cursor.execute(
            "UPDATE patients_accessentry SET session_ref = '' WHERE id = %s", [entries[1].pk]
        )
    broken = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert broken.returncode == 1
    assert f"chain_seq 2 (access entry id {entries[1].pk}): hash mismatch" in broken.stderr


def test_audit_2_the_sealing_task_runs_on_a_real_worker(
    celery_worker_process: CeleryWorker,  # noqa: F811 (the imported fixture)
    audit_head_dir: Path,
):
    record(3)
    seal_access_entries.delay()

    deadline = time.monotonic() + 30
    while unsealed_count() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert unsealed_count() == 0, celery_worker_process.log()
    # The worker exported the new head after sealing (the worker's export directory is this
    # test's, tests/celery_worker.py), and the chain agrees with it.
    deadline = time.monotonic() + 10
    while not list(audit_head_dir.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "Checked against 1 exported heads" in verify()
    assert "3 entries verified" in verify()
