"""The worker processes of ``manage.py bench_logistics``'s pick-list render.

Kept apart from ``logistics.bench_measure``: a spawned worker unpickles its initializer by
importing the initializer's module before Django is set up, so that module imports no model.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from typing import Any, TypeVar

import django

R = TypeVar("R")
# How long the workers may take to start (import Django, connect) before the run gives up.
WORKERS_START_S = 120


def _worker_start(ready: Any) -> None:
    """A spawned worker: the product's settings from the environment (the scratch database's,
    as the child that measures), then ready."""
    django.setup()
    ready.wait(WORKERS_START_S)


def in_worker_processes(
    function: Callable[[int], R], ids: list[int], *, workers: int
) -> tuple[list[R], float]:
    """``function`` of each id, in ``workers`` spawned processes (a fresh interpreter each, as a
    Celery child is: no connection or Fontconfig state shared with this process), the results
    in the ids' order, and the seconds from handing out the first id to the last result. The
    pool is started, and each worker ready, before the clock starts: a running Celery worker's
    children are already there when the jobs come."""
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(workers + 1)
    with context.Pool(workers, initializer=_worker_start, initargs=(ready,)) as pool:
        ready.wait(WORKERS_START_S)
        started = time.perf_counter()
        results = pool.map(function, ids, chunksize=1)
        return results, time.perf_counter() - started
