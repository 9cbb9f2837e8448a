"""The pipeline with a real Redis and a real Celery worker (PRINT-1, house rule 6).

Every job ends rendered exactly once, or refused: a message delivered three times, a worker
killed (SIGKILL) in the middle of a render, Redis restarted with jobs queued (append-only file)
and a message lost outright (the sweeper sends it again from the database).
"""

from __future__ import annotations

import base64
import json
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import kombu.pools
import pytest
import redis
from django.db import transaction
from django.urls import reverse

from config.celery import app
from patients.models import Patient
from protection.documents import services
from protection.documents.summary import SUMMARY_KIND
from protection.documents.tasks import render_document
from protection.models import Document, DocumentJob, DocumentJobTransition, DocumentState
from tests.celery_worker import (
    _forget_queue,
    celery_worker_process,  # noqa: F401 (a fixture, used by name)
    spawn_worker,
    stop_worker,
)
from tests.factories import PatientIdentityFactory
from tests.personas import ctx_for, logged_in
from tests.protection.documents.conftest import pdf_text

pytestmark = [
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WAIT_SECONDS = 90


def numbers(count: int) -> list[str]:
    with open(Path(__file__).resolve().parents[3].parent / "shared/data/testpersonnummer.txt") as f:
        return f.read().split()[100 : 100 + count]


def wait_until_settled(job_ids: list[int], worker=None) -> dict[int, str]:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        states = dict(DocumentJob.objects.filter(pk__in=job_ids).values_list("pk", "state"))
        if all(state in ("ready", "refused") for state in states.values()):
            return states
        assert time.monotonic() < deadline, (states, worker.log() if worker else "")
        time.sleep(0.2)


def assert_rendered_exactly_once(job_ids: list[int]) -> None:
    for job_id in job_ids:
        readies = DocumentJobTransition.objects.filter(job_id=job_id, to_state="ready").count()
        state = DocumentJob.objects.get(pk=job_id).state
        documents = Document.objects.filter(pk=job_id).count()
        assert (state, readies, documents) in {("ready", 1, 1), ("refused", 0, 0)}


def summary(user, *patients: Patient) -> DocumentJob:
    return services.document_request(
        ctx=ctx_for(user, stepped_up=True), kind=SUMMARY_KIND, patients=patients
    )


def test_print_1_a_real_worker_renders_and_refuses_a_patient_protected_before_the_render(
    celery_worker_process,  # noqa: F811 (the imported fixture)
    prescriber,
    ordinary,
):
    rendered = summary(prescriber, ordinary.patient)
    other = PatientIdentityFactory(personal_identity_number="198912242388")
    with transaction.atomic():
        refused = summary(prescriber, other.patient)
        # Protected in the same transaction: the worker sees the protection, not the request.
        Patient.objects.filter(pk=other.patient_id).update(protected_registration=True)
    states = wait_until_settled([rendered.pk, refused.pk], celery_worker_process)
    assert states == {rendered.pk: "ready", refused.pk: "refused"}
    content = bytes(Document.objects.get(pk=rendered.pk).content)
    assert "Karin Nilsson" in pdf_text(content)
    assert_rendered_exactly_once([rendered.pk, refused.pk])


def test_the_same_message_delivered_three_times_renders_once(
    celery_worker_process,  # noqa: F811 (the imported fixture)
    prescriber,
    ordinary,
):
    job = summary(prescriber, ordinary.patient)  # the first message, on commit
    render_document.delay(job.pk)
    render_document.delay(job.pk)
    wait_until_settled([job.pk], celery_worker_process)
    deadline = time.monotonic() + WAIT_SECONDS
    while celery_worker_process.log().count("succeeded") < 3:
        assert time.monotonic() < deadline, celery_worker_process.log()
        time.sleep(0.2)
    assert_rendered_exactly_once([job.pk])
    assert "not claimed" in celery_worker_process.log()


def test_a_worker_killed_mid_render_loses_nothing(
    celery_worker_process,  # noqa: F811 (the imported fixture)
    prescriber,
    redis_url,
    tmp_path,
):
    """SIGKILL while rendering: the claim runs out, the sweeper sends the job again, a new
    worker renders it; one document."""
    patients = [
        PatientIdentityFactory(personal_identity_number=number).patient for number in numbers(120)
    ]
    job = summary(prescriber, *patients)
    deadline = time.monotonic() + WAIT_SECONDS
    while DocumentJob.objects.get(pk=job.pk).state != DocumentState.RENDERING:
        assert time.monotonic() < deadline, celery_worker_process.log()
        time.sleep(0.01)
    celery_worker_process.process.send_signal(signal.SIGKILL)
    celery_worker_process.process.wait()
    assert DocumentJob.objects.get(pk=job.pk).state == DocumentState.RENDERING
    assert not Document.objects.filter(pk=job.pk).exists()
    # Time passes: the dead worker's claim runs out (it outlives any live render).
    DocumentJob.objects.filter(pk=job.pk).update(claim_expires_at="2000-01-01T00:00Z")
    assert services.documents_sweep()["resent"] == 1
    replacement = spawn_worker(
        redis_url=redis_url, queue=celery_worker_process.queue, log_path=tmp_path / "second.log"
    )
    try:
        assert wait_until_settled([job.pk], replacement) == {job.pk: "ready"}
    finally:
        stop_worker(replacement)
    assert_rendered_exactly_once([job.pk])
    assert Document.objects.get(pk=job.pk).pages == 120
    assert DocumentJob.objects.get(pk=job.pk).attempts == 2


# --- Redis restarted ---------------------------------------------------------------------------


@dataclass
class PrivateRedis:
    """A redis-server of this test's own, with the append-only file, on a free port: the
    shared Redis is never restarted."""

    directory: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
            *("--dir", str(self.directory), "--appendonly", "yes", "--appendfsync", "always"),
            *("--save", "", "--daemonize", "no"),
        ]
        with (self.directory / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while True:
            try:
                redis.Redis.from_url(self.url).ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "the private Redis did not start"
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: Redis writes the append-only file and exits
            self.process.wait(timeout=15)


@pytest.fixture
def private_redis(tmp_path) -> Iterator[PrivateRedis]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    directory = tmp_path / "redis"
    directory.mkdir()
    server = PrivateRedis(directory=directory, port=port)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def sending_to(url: str, queue: str) -> Iterator[None]:
    """This process's Celery app sends to another broker and queue for a while."""
    saved = (app.conf.broker_url, app.conf.task_default_queue)

    def fresh_pools() -> None:
        # kombu keeps producer pools per connection in a global registry: reset it with the
        # app's own, or a later send would take a pool closed here.
        kombu.pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    fresh_pools()
    app.conf.broker_url, app.conf.task_default_queue = url, queue
    try:
        yield
    finally:
        fresh_pools()
        app.conf.broker_url, app.conf.task_default_queue = saved


def message_body(raw: bytes) -> str:
    """The task's serialized arguments as the broker holds them (kombu's envelope decoded)."""
    envelope = json.loads(raw)
    body = envelope["body"]
    if envelope.get("properties", {}).get("body_encoding") == "base64":
        body = base64.b64decode(body).decode()
    return str(body)


def test_leak_1_redis_restarted_with_jobs_queued_and_a_lost_message_lose_nothing(
    access_log_cleared,
    django_db_serialized_rollback,
    private_redis,
    prescriber,
    ordinary,
    tmp_path,
):
    queue = f"test-{uuid.uuid4().hex}"
    with sending_to(private_redis.url, queue):
        queued = [summary(prescriber, ordinary.patient) for _ in range(3)]
        client = redis.Redis.from_url(private_redis.url)
        assert client.llen(queue) == 3
        # LEAK-1: what the broker holds is the job's internal id and nothing else.
        bodies = [message_body(raw) for raw in client.lrange(queue, 0, -1)]
        assert sorted(json.loads(body)[0][0] for body in bodies) == [j.pk for j in queued]
        assert all(json.loads(body)[:2] == [[json.loads(body)[0][0]], {}] for body in bodies)
        for body in bodies:
            for secret in ("Karin", "Nilsson", "Provgatan", "198912222398", "891222-2398"):
                assert secret not in body
        private_redis.stop()
        private_redis.start()
        # The append-only file kept the messages across the restart.
        assert redis.Redis.from_url(private_redis.url).llen(queue) == 3
        # And a message lost outright (a Redis without the file, say): the database has it.
        lost = summary(prescriber, ordinary.patient)
        redis.Redis.from_url(private_redis.url).lpop(queue)  # the newest message is gone
        DocumentJob.objects.filter(pk=lost.pk).update(enqueued_at="2000-01-01T00:00Z")
        assert services.documents_sweep()["resent"] == 1
        worker = spawn_worker(
            redis_url=private_redis.url, queue=queue, log_path=tmp_path / "worker.log"
        )
        try:
            ids = [job.pk for job in (*queued, lost)]
            assert set(wait_until_settled(ids, worker).values()) == {"ready"}
        finally:
            stop_worker(worker)
            _forget_queue(private_redis.url, queue)
    assert_rendered_exactly_once(ids)


# --- the broker down at commit -----------------------------------------------------------------


def test_leak_1_a_broker_outage_at_commit_leaves_the_job_for_the_sweeper(
    access_log_cleared,
    django_db_serialized_rollback,
    client,
    caplog,
    prescriber,
    ordinary,
    redis_url,
):
    """House rule 6: the request commits its job, and the send on commit finds no broker
    (a real Redis client against a closed port). The user gets the ordinary answer, not an
    error page; the log names the job only (LEAK-1); the sweeper sends the job later."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]  # nothing listens once the socket is closed
    queue = f"test-{uuid.uuid4().hex}"
    url = reverse("protection:summary_request", args=[ordinary.patient.reference])
    with sending_to(f"redis://127.0.0.1:{closed_port}/0", queue):
        response = logged_in(client, prescriber).post(url, {})
    assert response.status_code == 302
    assert response["Location"] == reverse("protection:documents")
    job = DocumentJob.objects.get()
    assert job.state == DocumentState.QUEUED
    warning = f"document job {job.pk}: broker unreachable (OperationalError); left for the sweeper"
    assert warning in caplog.text
    for secret in ("Karin", "Nilsson", "Provgatan", "198912222398", ordinary.patient.reference):
        assert secret not in caplog.text
    try:
        with sending_to(redis_url, queue):
            DocumentJob.objects.filter(pk=job.pk).update(enqueued_at="2000-01-01T00:00Z")
            assert services.documents_sweep()["resent"] == 1
            bodies = [
                message_body(raw) for raw in redis.Redis.from_url(redis_url).lrange(queue, 0, -1)
            ]
            assert [json.loads(body)[0] for body in bodies] == [[job.pk]]
    finally:
        _forget_queue(redis_url, queue)
