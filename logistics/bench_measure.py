"""The timed part of ``manage.py bench_logistics`` and its report (see the command's module).

Phase one is the store's work on 5 000 order lines through the real services and pipeline:
allocate (``orders_allocate``), wave (``waves_create``), and each wave's pick list asked for
through its page (the view, ``pick_list_request``, ``document_request``: the printing ban per
patient, the access entries, the snapshot) and rendered by the worker's own function
(``document_job_render``: the ban again, the template, WeasyPrint, the stored PDF), called here
instead of through the broker, as the Celery worker runs it: in a pool of worker processes, one
per core by default (Celery's prefork default), each rendering one pick list at a time, started
and ready before the clock starts as a running worker's children are. Each step's time and SQL
statements (the workers' included) are counted. Then the order
queue page and the device card (a device lent to a patient, and one in the store) against bare
one-query views of the same rows, alternated, in the same process.
"""

from __future__ import annotations

import datetime
import multiprocessing
import os
import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any
from unittest import mock

from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from logistics.bench_data import World
from logistics.bench_workers import in_worker_processes
from logistics.calendar import next_working_day
from logistics.documents import PICK_LIST_KIND
from logistics.models import DeliveryArea, PickWave
from logistics.selectors.destinations import area_next_day
from logistics.services.orders import orders_allocate
from logistics.services.picking import waves_create
from patients.bench import percentiles, timed
from protection.documents.services import document_job_render
from protection.models import DocumentJob

SECTION = "bench_logistics"
STEPS = ("allocate", "wave", "pick_list_request", "pick_list_render")
PAGES = (
    ("queue", "Order queue: lines to allocate, first page", "/logistics/queue/to-allocate/"),
    ("lent", "Device card, lent to a patient", "/logistics/devices/{lent}/"),
    ("stock", "Device card, in the store", "/logistics/devices/{stock}/"),
)
BARE = {
    "queue": "/bench/logistics/queue-bare/",
    "lent": "/bench/logistics/device-bare/{lent}/",
    "stock": "/bench/logistics/device-bare/{stock}/",
}


@contextmanager
def _phase(figures: dict[str, Any], name: str) -> Iterator[None]:
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        yield
        figures[name] = {
            "s": time.perf_counter() - started,
            "queries": len(captured.captured_queries),
        }


def render_counted(job_id: int) -> tuple[str, int]:
    """The worker's render of one job, and the SQL statements it ran (in this process)."""
    try:
        with CaptureQueriesContext(connection) as captured:
            outcome = document_job_render(job_id=job_id)
        return outcome, len(captured.captured_queries)
    finally:
        if multiprocessing.parent_process() is not None:
            # A worker's connection is not left open past its job's end: the pool ends it.
            connections.close_all()


def _client(world: World) -> Client:
    client = Client()
    client.force_login(world.logistics_user)
    return client


def store_work(world: World, *, workers: int = 1) -> dict[str, Any]:
    """Allocate, wave and the pick lists: each step's seconds and SQL statements. With more
    than one worker the pick lists are rendered in that many worker processes (their data
    must be committed: the scratch database's, not a test's transaction)."""
    figures: dict[str, Any] = {}
    user = world.logistics_user
    area = DeliveryArea.objects.order_by("pk").first()
    assert area is not None
    day = area_next_day(area, next_working_day(timezone.localdate()))
    assert day is not None
    client = _client(world)
    with _phase(figures, "allocate"):
        allocated = orders_allocate(location_id=world.store_id, by=user)
    with _phase(figures, "wave"):
        plan = waves_create(store_id=world.store_id, delivery_on=day, by=user)
    first_job = DocumentJob.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    # The broker is left out: the worker's function is called below, in this process.
    with (
        mock.patch("protection.documents.services.jobs.task_send_on_commit"),
        override_settings(ALLOWED_HOSTS=["testserver"]),
        _phase(figures, "pick_list_request"),
    ):
        for wave in plan.waves:
            response = client.post(f"/logistics/waves/{wave.pk}/pick-list/")
            if response.status_code != 302:
                raise RuntimeError(f"pick list of wave {wave.number}: {response.status_code}")
    jobs = list(
        DocumentJob.objects.filter(pk__gt=first_job, kind=PICK_LIST_KIND)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if workers > 1:
        rendered, seconds = in_worker_processes(render_counted, jobs, workers=workers)
    else:
        started = time.perf_counter()
        rendered = [render_counted(job) for job in jobs]
        seconds = time.perf_counter() - started
    figures["pick_list_render"] = {
        "s": seconds,
        "queries": sum(count for _outcome, count in rendered),
    }
    outcomes = [outcome for outcome, _count in rendered]
    if len(jobs) != len(plan.waves) or set(outcomes) != {"ready"}:
        raise RuntimeError(f"pick lists: {len(jobs)} jobs for {len(plan.waves)} waves, {outcomes}")
    ready = DocumentJob.objects.filter(pk__in=jobs)
    figures["allocated"] = allocated.allocated
    figures["backordered"] = allocated.backordered
    figures["waves"] = len(plan.waves)
    figures["unrouted"] = len(plan.unrouted)
    figures["wave_lines"] = sum(PickWave.objects.get(pk=w.pk).items.count() for w in plan.waves)
    figures["pages"] = sum(ready.values_list("document__pages", flat=True))
    figures["workers"] = workers
    figures["total_s"] = sum(figures[k]["s"] for k in STEPS)
    return figures


def pages(world: World, requests: int) -> dict[str, Any]:
    """Each page and its bare view: query count, then ``requests`` alternated timed requests."""
    ids = {"lent": world.lent_device_id, "stock": world.stock_device_id}
    result: dict[str, Any] = {}
    with override_settings(ROOT_URLCONF="logistics.bench", ALLOWED_HOSTS=["testserver"]):
        client = _client(world)
        for key, _label, url in PAGES:
            page_url, bare_url = url.format(**ids), BARE[key].format(**ids)
            get: dict[str, Callable[[], Any]] = {
                "page": partial(client.get, page_url),
                "bare": partial(client.get, bare_url),
            }
            counts = {}
            for kind, call in get.items():
                call()  # warm: templates, translations, the connection's plans
                with CaptureQueriesContext(connection) as captured:
                    if call().status_code != 200:
                        raise RuntimeError(f"{kind} of {key}: not 200")
                counts[kind] = len(captured.captured_queries)
            samples: dict[str, list[float]] = {"page": [], "bare": []}
            for _ in range(requests):
                timed(get["bare"], samples["bare"], what=bare_url)
                timed(get["page"], samples["page"], what=page_url)
            result[key] = {
                kind: {**percentiles(values), "queries": counts[kind]}
                for kind, values in samples.items()
            }
    return result


def measure(world: World, *, requests: int, workers: int = 1) -> dict[str, Any]:
    # The pages first, while the 5 000 lines wait to be allocated (the queue is full).
    page_figures = pages(world, requests)
    return {
        "pages": page_figures,
        "store": store_work(world, workers=workers),
        "world": {
            "patients": world.patients,
            "protected": world.protected,
            "orders": world.orders,
            "lines": world.lines,
        },
        "load": os.getloadavg()[0],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
    }


def _workers_text(workers: int) -> str:
    if workers == 1:
        return "the measuring process, one list after the other"
    return f"{workers} worker processes, one list at a time each (Celery's prefork pool)"


def _met(value: float, aim: float) -> str:
    return "met" if value <= aim else "missed"


def report(figures: dict[str, Any], *, volume: dict[str, int], build_s: float) -> str:
    store = figures["store"]
    world = figures["world"]
    lines = [
        f"<!-- {SECTION}:start -->",
        "## Logistics (`make bench-logistics`)",
        "",
        f"Measured {datetime.date.today().isoformat()} on {figures['machine']}, PostgreSQL on "
        "the same machine, shared with other test runs (one-minute load average "
        f"{figures['load']:.1f} at the end). Command: `make bench-logistics` (= `python "
        "manage.py bench_logistics --write docs/performance.md`). In a scratch database: "
        f"{volume['devices']:,} devices, {volume['articles']:,} articles, a central store and "
        f"five buffer stores with their stock levels, {AREAS_TEXT}, {world['patients']:,} "
        f"patients ({world['protected']} protected, Skatteverket's test personnummer) and "
        f"{world['orders']:,} approved prescriptions' customer orders with {world['lines']:,} "
        f"open lines; built in {build_s:.0f} s.",
        "",
        "Allocating, waving and the pick lists, through the real services, the pick-list page "
        "(`document_request`) and the worker's render function (the broker left out) in "
        f"{_workers_text(store['workers'])}:",
        "",
        "| step | time | SQL statements |",
        "|---|---:|---:|",
        f"| Allocate {store['allocated']:,} lines (`orders_allocate`) | "
        f"{store['allocate']['s']:.2f} s | {store['allocate']['queries']} |",
        f"| Wave them: {store['waves']} waves, {store['wave_lines']:,} lines (`waves_create`) | "
        f"{store['wave']['s']:.2f} s | {store['wave']['queries']} |",
        f"| Ask for the {store['waves']} pick lists (page, `document_request`) | "
        f"{store['pick_list_request']['s']:.2f} s | {store['pick_list_request']['queries']} |",
        f"| Render them ({store['pages']} PDF pages, `document_job_render`) | "
        f"{store['pick_list_render']['s']:.2f} s | {store['pick_list_render']['queries']} |",
        f"| **Total** (aim: under 10 s, {_met(store['total_s'], 10)}) | "
        f"**{store['total_s']:.2f} s** | "
        f"{sum(store[k]['queries'] for k in STEPS)} |",
        "",
        "Pages against a bare one-query view of the same rows (aim: 1.5 times the bare view's "
        "p50), through the full middleware stack with Django's test client, logged in as "
        "logistics staff:",
        "",
        "| request | queries | p50 | p95 | bare p50 | bare queries | p50 / bare | aim |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for key, label, _url in PAGES:
        page, bare = figures["pages"][key]["page"], figures["pages"][key]["bare"]
        ratio = page["p50"] / bare["p50"]
        lines.append(
            f"| {label} | {page['queries']} | {page['p50']:.2f} ms | {page['p95']:.2f} ms | "
            f"{bare['p50']:.2f} ms | {bare['queries']} | {ratio:.2f} | {_met(ratio, 1.5)} |"
        )
    requests = int(figures["pages"]["queue"]["page"]["n"])
    lines += [
        "",
        f"{requests} timed requests of each kind, page and bare view alternated.",
        f"<!-- {SECTION}:end -->",
    ]
    return "\n".join(lines)


AREAS_TEXT = "eight delivery areas by postal code served every working day"
