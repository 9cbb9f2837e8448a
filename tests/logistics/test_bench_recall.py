"""``manage.py bench_recall`` at a tiny volume: the same build and measurement as the full run
(in the test database, not a scratch one), every figure present in the report, and the SQL
statement counts it claims. No wall-clock assertion: times vary, counts do not."""

from __future__ import annotations

from typing import Any

import pytest

from logistics.bench_recall_measure import STEPS, report
from logistics.management.commands.bench_recall import run

VOLUME = {"devices": 400, "articles": 400, "patients": 150, "holders": 180}

pytestmark = pytest.mark.django_db


@pytest.fixture
def figures() -> dict[str, Any]:
    return run(VOLUME, requests=2)


def test_device_2_the_benchmark_finds_every_holder_and_makes_their_work_orders(
    figures: dict[str, Any],
) -> None:
    notice = figures["publish"]
    assert notice["patients"] == VOLUME["holders"]
    assert notice["found"] >= VOLUME["holders"]
    assert notice["work_orders"] == notice["found"] - notice["blocked"]
    assert notice["protected"] == VOLUME["holders"] // 50
    # LOG-3, LEAK-5: every patient reached through the prescriber of the order, no supplier.
    assert notice["with_prescriber"] == VOLUME["holders"]
    assert notice["orders_to_suppliers"] == 0
    for step in STEPS:
        assert notice[step]["s"] > 0
        assert notice[step]["queries"] > 0


def test_device_2_publishing_s_statements_do_not_grow_with_the_holders(
    figures: dict[str, Any],
) -> None:
    """Set-based: a fixed handful of statements for 180 holders as for 20 000."""
    assert figures["publish"]["publish"]["queries"] == 13


def test_the_campaign_page_s_query_counts_are_those_the_report_states(
    figures: dict[str, Any],
) -> None:
    campaign = figures["campaign"]
    assert campaign["bare"]["queries"] <= 5
    assert campaign["page"]["queries"] == 12
    assert campaign["page"]["n"] == campaign["bare"]["n"] == 2
    queue = figures["queue"]
    assert queue["bare"]["queries"] <= 5
    assert queue["page"]["queries"] == 8
    assert figures["open_work_orders"] >= VOLUME["holders"]


def test_the_report_carries_every_figure(figures: dict[str, Any]) -> None:
    text = report(figures, volume=VOLUME, build_s=figures["build_s"])
    assert text.startswith("<!-- bench_recall:start -->")
    assert text.endswith("<!-- bench_recall:end -->")
    assert "make bench-recall" in text
    for needle in (
        "Create the notice",
        "Publish:",
        "**Total**",
        "Campaign page",
        "Technician's queue",
    ):
        assert needle in text
    assert text.count("met") + text.count("missed") >= 3
