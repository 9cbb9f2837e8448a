"""``manage.py bench_logistics`` at a tiny volume: the same build and measurement as the full
run (in the test database, not a scratch one), every figure present in the report, and the SQL
statement counts it claims. No wall-clock assertion: times vary, counts do not."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

from logistics.bench_measure import PAGES, STEPS, report
from logistics.bench_workers import in_worker_processes
from logistics.management.commands.bench_logistics import run
from logistics.models import CustomerOrderLine, LineState
from protection.models import DocumentJob

VOLUME = {"devices": 400, "articles": 400, "lines": 120, "patients": 150}

pytestmark = pytest.mark.django_db


@pytest.fixture
def figures() -> dict[str, Any]:
    return run(VOLUME, requests=2)


def test_the_benchmark_allocates_waves_and_renders_every_line(figures: dict[str, Any]) -> None:
    store = figures["store"]
    assert figures["world"]["lines"] == VOLUME["lines"]
    # One in 50 patients is protected; their orders are among the lines picked.
    assert figures["world"]["protected"] == VOLUME["patients"] // 50
    assert store["allocated"] == VOLUME["lines"]
    assert store["backordered"] == 0
    assert store["unrouted"] == 0
    assert store["wave_lines"] == VOLUME["lines"]
    assert not CustomerOrderLine.objects.filter(state=LineState.ALLOCATED).exists()
    assert store["waves"] == DocumentJob.objects.filter(state="ready").count() > 1
    assert store["pages"] >= store["waves"]
    for step in STEPS:
        assert store[step]["s"] > 0
        assert store[step]["queries"] > 0


def test_print_1_the_pick_lists_statements_do_not_grow_with_the_waves_patients(
    figures: dict[str, Any],
) -> None:
    """PRINT-1 is decided for every patient of a wave, but the protection checks, the grants
    and the access entries are read and written for all of them at once: the request's and
    the render's statements per wave stay a handful, whatever the number of patients (about
    15 per wave here; they were about four statements each before)."""
    store = figures["store"]
    waves = store["waves"]
    patients_per_wave = VOLUME["lines"] / waves / 2
    assert patients_per_wave > 5
    assert store["pick_list_request"]["queries"] <= 22 * waves
    assert store["pick_list_render"]["queries"] <= 40 * waves


def test_the_pages_query_counts_are_those_the_report_states(figures: dict[str, Any]) -> None:
    pages = figures["pages"]
    # The bare views: session, user, the navigation's permission reads, and their one query.
    for key, _label, _url in PAGES:
        assert pages[key]["bare"]["queries"] <= 5
        assert pages[key]["page"]["n"] == pages[key]["bare"]["n"] == 2
    assert pages["queue"]["page"]["queries"] == 6
    # The device card reads its order lines, history and issue-11 lists (adaptations, pickups,
    # losses, reconditionings, work orders) within the device's own query and the user's
    # permissions once (three fewer since issue 10, one fewer since issue 16), as
    # tests/logistics/test_device_pages.py pins.
    assert pages["stock"]["page"]["queries"] == 4
    assert pages["lent"]["page"]["queries"] == 6


def test_the_report_carries_every_figure(figures: dict[str, Any]) -> None:
    text = report(figures, volume=VOLUME, build_s=figures["build_s"])
    assert text.startswith("<!-- bench_logistics:start -->")
    assert text.endswith("<!-- bench_logistics:end -->")
    assert "make bench-logistics" in text
    for needle in ("Allocate", "Wave them", "Ask for the", "Render them", "**Total**"):
        assert needle in text
    for _key, label, _url in PAGES:
        assert label in text
    store = figures["store"]
    for step in STEPS:
        assert f"| {store[step]['queries']} |" in text
    assert text.count("met") + text.count("missed") >= 4


def _pid_after(seconds: int) -> tuple[int, int]:
    time.sleep(seconds / 10)
    return seconds, os.getpid()


def test_the_pick_lists_workers_are_separate_processes_answering_in_order() -> None:
    """The benchmark renders the pick lists in worker processes, one per core as Celery's
    prefork pool, each started and ready before the first list is handed out."""
    answers, seconds = in_worker_processes(_pid_after, [3, 1, 2, 1], workers=2)
    # The clock runs from the first id handed out to the last answer: the longest sleep is in.
    assert seconds >= 0.3
    assert [seconds for seconds, _pid in answers] == [3, 1, 2, 1]
    pids = {pid for _seconds, pid in answers}
    assert len(pids) == 2
    assert os.getpid() not in pids


def test_the_report_names_the_workers_that_rendered(figures: dict[str, Any]) -> None:
    assert figures["store"]["workers"] == 1
    text = report(figures, volume=VOLUME, build_s=figures["build_s"])
    assert "one list after the other" in text
    figures["store"]["workers"] = 2
    text = report(figures, volume=VOLUME, build_s=figures["build_s"])
    assert "2 worker processes" in text
