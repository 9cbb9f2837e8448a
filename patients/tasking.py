"""Sending a Celery task from a service: now, or when the transaction commits (house rule 6).

Every floor sends its tasks through these two functions, by the task's registered name, so a
service never imports a task module (the task modules import the services, never the reverse)::

    from patients.tasking import task_send_on_commit

    task_send_on_commit("protection.documents.tasks.render_document", job.pk, what="document job")

A task takes internal ids only (LEAK-1). The database row is the record of the work: should the
broker be unreachable at the moment of sending, the send logs the id and the error's class and
returns, and the floor's sweeper (a beat task reading the rows) sends the work again. Only the
named broker errors (``BROKER_ERRORS``) are swallowed; anything else is a bug and raises.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from celery import Task, current_app
from django.db import transaction

logger = logging.getLogger(__name__)


def _broker_errors() -> tuple[type[BaseException], ...]:
    import kombu.exceptions
    import redis

    # kombu's OperationalError is what a send raises once Celery's publish retries give up;
    # redis' ConnectionError in case the transport lets one through unwrapped.
    return (kombu.exceptions.OperationalError, redis.ConnectionError)


BROKER_ERRORS = _broker_errors()


def task_named(name: str) -> Task[Any, Any]:
    """The registered task ``name``. A worker imports every floor's task module when it starts;
    a web process has not, so they are imported here first (once; later calls find them)."""
    current_app.loader.import_default_modules()
    return current_app.tasks[name]


def task_send(name: str, *ids: int, what: str) -> bool:
    """Send the task ``name`` with ``ids`` now. False (and a log line naming ``what`` and the
    ids only) when the broker cannot be reached: the sweeper sends it later."""
    if current_app.conf.task_always_eager:
        # No broker (the demo without Redis): ``send_task`` would post to nowhere, unlike
        # ``delay``, so the task runs here and now, as ``delay`` would run it.
        task_named(name).apply(args=ids)
        return True
    try:
        current_app.send_task(name, args=list(ids))
    except BROKER_ERRORS as exc:
        logger.warning(
            "%s %s: broker unreachable (%s); left for the sweeper",
            what,
            ", ".join(str(i) for i in ids),
            type(exc).__name__,
        )
        return False
    return True


def _send_ignoring_result(name: str, ids: tuple[int, ...], what: str) -> None:
    task_send(name, *ids, what=what)


def task_send_on_commit(name: str, *ids: int, what: str) -> None:
    """Send the task ``name`` with ``ids`` once the current transaction commits (not at all if
    it rolls back), as :func:`task_send`."""
    transaction.on_commit(partial(_send_ignoring_result, name, ids, what))
