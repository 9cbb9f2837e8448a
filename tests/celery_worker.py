"""A real Celery worker for tests: ``celery_worker_process``.

Import the fixture into a test module (``from tests.celery_worker import celery_worker_process``)
and request it. It starts ``celery -A config worker --pool solo --concurrency 1`` as a subprocess
on the test database, waits until the worker is ready, and stops it when the test ends. The test
is transactional with serialized rollback (the worker is another connection and sees only
committed rows), and its access entries are removed before the flush
(``tests.audit_log.access_log_cleared``).

The worker consumes a queue of its own, not ``celery``: Redis db 15 is shared by every test run
on the machine, and a worker on the common queue could take another run's tasks (on another
database) or lose its own to another run's worker. While the fixture is active, this process
sends tasks without an explicit queue (``.delay()``, ``transaction.on_commit``) to that queue.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings

from config.celery import app
from tests.audit_log import access_log_cleared  # noqa: F401 (a fixture this one requests)

ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class CeleryWorker:
    process: subprocess.Popen[bytes]
    queue: str
    log_path: Path

    def log(self) -> str:
        """The worker's output so far, for assertion messages."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def current_database_url() -> str:
    """DATABASE_URL of the database this test run uses (pytest-django's test database)."""
    db = settings.DATABASES["default"]
    credentials = quote(str(db["USER"]), safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(str(db["PASSWORD"]), safe="")
    name = quote(str(db["NAME"]), safe="")
    host = str(db["HOST"])
    if host.startswith("/"):  # a socket directory (the embedded PostgreSQL)
        return f"postgres://{credentials}@/{name}?host={quote(host, safe='/')}"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{name}"


def _forget_queue(url: str, queue: str) -> None:
    """Remove the queue and its bindings from the shared Redis db, so runs leave nothing."""
    client = redis.Redis.from_url(url, decode_responses=True)
    client.delete(queue)
    # Kombu keeps bindings in sets named after the exchange, which here is named after the queue.
    for key in client.scan_iter("_kombu.binding*"):
        if client.type(key) != "set":
            continue
        if str(key).endswith(f".{queue}"):
            client.delete(key)
            continue
        for member in client.smembers(key):
            if str(member).endswith(queue):
                client.srem(key, member)


@pytest.fixture
def celery_worker_process(
    redis_url: str,
    access_log_cleared: None,  # noqa: F811 (the imported fixture)
    # As the suite's other transactional tests: the rows the migrations load come back after
    # the flush, and no post-migrate run recreates them meanwhile.
    django_db_serialized_rollback: None,
    tmp_path: Path,
) -> Iterator[CeleryWorker]:
    queue = f"test-{uuid.uuid4().hex}"
    default_queue = app.conf.task_default_queue
    worker = spawn_worker(redis_url=redis_url, queue=queue, log_path=tmp_path / "celery-worker.log")
    try:
        # The router reads the default queue at each send, so .delay() now reaches this worker.
        app.conf.task_default_queue = queue
        yield worker
    finally:
        app.conf.task_default_queue = default_queue
        stop_worker(worker)
        _forget_queue(redis_url, queue)


def spawn_worker(*, redis_url: str, queue: str, log_path: Path) -> CeleryWorker:
    """Start a worker on the test database consuming ``queue`` and wait until it is ready."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": current_database_url(),
        "REDIS_URL": redis_url,
        # The sealing task exports the chain head (AUDIT-2): where this test's export goes.
        "AUDIT_HEAD_EXPORT_DIR": str(settings.AUDIT_HEAD_EXPORT_DIR),
    }
    command = [
        *(sys.executable, "-m", "celery", "-A", "config", "worker"),
        *("--pool", "solo", "--concurrency", "1", "-Q", queue, "--loglevel", "INFO"),
        # Nothing to learn from other workers on the shared broker.
        *("--without-gossip", "--without-mingle", "--without-heartbeat"),
    ]
    # A log shared by a restarted worker: wait for this one's "ready" line.
    ready_before = log_path.read_text().count(" ready.") if log_path.exists() else 0
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    worker = CeleryWorker(process=process, queue=queue, log_path=log_path)
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while worker.log().count(" ready.") <= ready_before:
        if process.poll() is not None:
            pytest.fail(f"the Celery worker exited with {process.returncode}:\n{worker.log()}")
        if time.monotonic() > deadline:
            stop_worker(worker)
            pytest.fail(
                f"the Celery worker was not ready within {READY_TIMEOUT_SECONDS} s:\n"
                + worker.log()
            )
        time.sleep(0.2)
    return worker


def stop_worker(worker: CeleryWorker) -> None:
    if worker.process.poll() is not None:
        return
    worker.process.terminate()
    try:
        worker.process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        worker.process.kill()
        worker.process.wait()
