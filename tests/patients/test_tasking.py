"""House rule 6: one way for every floor to send a task now or on commit (patients.tasking).

Only the named broker errors are swallowed, with a log line naming the ids and nothing else
(LEAK-1); the row in the database stays the record the floor's sweeper sends again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import kombu.exceptions
import pytest
from celery import current_app

from patients import tasking

ROOT = Path(__file__).resolve().parents[2]


class Sent:
    def __init__(self, error: BaseException | None = None) -> None:
        self.calls: list[tuple[str, list[int]]] = []
        self.error = error

    def __call__(self, name: str, args: list[int], **_options: Any) -> None:
        self.calls.append((name, args))
        if self.error is not None:
            raise self.error


def test_a_task_is_sent_by_name_with_ids_only(monkeypatch):
    sent = Sent()
    monkeypatch.setattr(current_app, "send_task", sent)
    assert tasking.task_send("floor.tasks.work", 7, 8, what="work") is True
    assert sent.calls == [("floor.tasks.work", [7, 8])]


def test_leak_1_a_broker_outage_is_logged_by_id_and_left_for_the_sweeper(monkeypatch, caplog):
    sent = Sent(kombu.exceptions.OperationalError("Error 111 connecting to Karin Nilsson"))
    monkeypatch.setattr(current_app, "send_task", sent)
    assert tasking.task_send("floor.tasks.work", 7, what="work item") is False
    assert "work item 7: broker unreachable (OperationalError); left for the sweeper" in caplog.text
    assert "Karin" not in caplog.text  # the error's own text is never logged


def test_any_other_error_is_a_bug_and_raises(monkeypatch):
    monkeypatch.setattr(current_app, "send_task", Sent(TypeError("not serialisable")))
    with pytest.raises(TypeError):
        tasking.task_send("floor.tasks.work", 7, what="work")


@pytest.mark.django_db
def test_a_send_on_commit_waits_for_the_commit(monkeypatch, django_capture_on_commit_callbacks):
    sent = Sent()
    monkeypatch.setattr(current_app, "send_task", sent)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        tasking.task_send_on_commit("floor.tasks.work", 7, what="work")
    assert sent.calls == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert sent.calls == [("floor.tasks.work", [7])]


def test_a_web_process_finds_every_task_it_sends_by_name():
    """The demo without a broker runs a task sent by name in the web process (eagerly). A worker
    imports every floor's task module when it starts; a web process has only set Django up, so
    ``task_named`` must find the modules itself. Run in a fresh process: this one has imported
    them all long ago."""
    code = "\n".join(
        [
            "import django",
            "django.setup()",
            "from celery import current_app",
            "from django.conf import settings",
            "from patients.tasking import task_named",
            "from protection.documents.services.jobs import RENDER_TASK, WITHDRAW_TASK",
            "assert RENDER_TASK not in current_app.tasks, 'the check would prove nothing'",
            "beat = [entry['task'] for entry in settings.CELERY_BEAT_SCHEDULE.values()]",
            "for name in [RENDER_TASK, WITHDRAW_TASK, *beat]:",
            "    print(task_named(name).name)",
        ]
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = done.stdout.split()
    assert "protection.documents.tasks.render_document" in found
    assert "protection.documents.tasks.withdraw_documents" in found
