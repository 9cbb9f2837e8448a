"""The Celery application. Tasks take internal ids only (LEAK-1) and re-read what they need."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("hjalpmedel")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def _connections_checked(*, task: Any = None, **_kwargs: Any) -> None:
    """Between tasks, a worker's database connection is checked as Django checks it between
    requests: closed when older than ``CONN_MAX_AGE``, after an error, or when it fails its
    health check; else the next task uses it. Celery's own Django fixup would close it around
    every task (``CELERY_DB_REUSE_MAX`` in settings keeps it from doing so), and a new
    PostgreSQL session for each task, with its caches cold, was about half of a one-page
    letter's time outside the render (issue 16; docs/performance.md, "Documents: where the
    job's time went")."""
    if task is None or getattr(task.request, "is_eager", False):
        # Run in the caller's process (the demo without Redis): the connection is the
        # caller's, perhaps inside its transaction.
        return
    from django.db import close_old_connections

    close_old_connections()
