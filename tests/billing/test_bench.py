"""``manage.py bench_billing`` at a tiny volume: the same build and measurement as the full
run (in the test database, not a scratch one), and what the report claims. No wall-clock
assertion: times vary, counts do not."""

from __future__ import annotations

from typing import Any

import pytest

from billing.bench import MONTH
from billing.management.commands.bench_billing import report, run
from billing.models import ChargeEvent, Invoice

VOLUME = {"devices": 200, "events": 60, "patients": 40}

pytestmark = pytest.mark.django_db


@pytest.fixture
def figures() -> dict[str, Any]:
    return run(VOLUME)


def test_bill_1_the_benchmark_charges_every_lent_device_and_sale_and_issues_valid_invoices(
    figures: dict[str, Any],
) -> None:
    world = figures["world"]
    # Half the devices are lent (logistics' world): each is a rent line delivered before the
    # month, so each is charged once; every order line of logistics' world (the events, and
    # its one lent device's line) is a sale in the month.
    assert world["rent_lines"] == VOLUME["devices"] // 2
    assert world["sale_lines"] == VOLUME["events"] + 1
    rent = ChargeEvent.objects.filter(kind="rent", month=MONTH).count()
    sales = ChargeEvent.objects.filter(kind="sale", month=MONTH).count()
    assert rent == world["rent_lines"]
    assert sales == world["sale_lines"]
    assert figures["created"] == rent + sales
    # The run derives the month before again too: the rent of September, nothing twice.
    assert figures["charges"] == ChargeEvent.objects.count() == figures["created"] + rent
    assert figures["problems"] == 0
    invoices = Invoice.objects.all()
    assert figures["validation"]["invoices"] == invoices.count() >= 1
    assert all(not i.findings or all(f["flag"] != "fatal" for f in i.findings) for i in invoices)


def test_bill_1_the_report_states_the_figures_and_the_command(figures: dict[str, Any]) -> None:
    text = report(figures, volume=VOLUME)
    assert "bench_billing --devices 200 --events 60" in text
    assert f"{VOLUME['devices'] // 2} devices on rent" in text
    assert "Peak RSS" in text
    assert "Load average" in text
    # The validation's time by invoice size, one row per size.
    sizes = [row["lines"] for row in figures["validation_scaling"]]
    assert sizes == [1, 10, 50, 100, 500]
    for size in sizes:
        assert f"| {size} | " in text
    # Between its markers, so that --write replaces it next time.
    assert text.startswith("<!-- bench_billing:start -->")
    assert text.endswith("<!-- bench_billing:end -->")
