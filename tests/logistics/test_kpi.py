"""KPI-1: delivery reliability per month for the 7-day and 17-day assortments and urgent
orders, against 98, 98 and 100 %, per agreement type; the lines that missed one click away.

The lines are made through the prescriptions floor and the order helpers, then given the
promise and delivery day each case needs (the KPI reads only those fields)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from logistics.models import CustomerOrder, CustomerOrderLine, LineState
from logistics.selectors.kpi import (
    SEVEN,
    SEVENTEEN,
    URGENT,
    Cell,
    kpi1_missed_lines,
    kpi1_table,
    month_end,
    months_back,
)
from prescriptions.models import AgreementType
from tests.factories import UserFactory
from tests.logistics.conftest import approved
from tests.logistics.picking_setup import allocated_order, stocked
from tests.personas import logged_in
from tests.prescriptions.conftest import article

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
MONTHS = months_back(TODAY)
# Two whole months in the past: every promise in them has passed.
M = MONTHS[-3]
NEXT = MONTHS[-2]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _set(
    line: CustomerOrderLine,
    promised: datetime.date,
    delivered: datetime.date | None,
    state: str | None = None,
) -> None:
    if state is None:
        state = LineState.DELIVERED if delivered else LineState.ALLOCATED
    CustomerOrderLine.objects.filter(pk=line.pk).update(
        promised_on=promised, delivered_on=delivered, state=state
    )


def _order(rx: Any, patient: Any, central: Any, articles: list[Any], **fields: Any) -> list[Any]:
    for each in articles:
        stocked(each, central)
    order = allocated_order(approved(rx, patient, *articles), central, *articles)
    CustomerOrder.objects.filter(pk=order.pk).update(**fields)
    return list(CustomerOrderLine.objects.filter(order=order).order_by("position"))


@pytest.fixture
def lines(rx, ordinary, central):
    day = M.replace
    sevens = [article("100") for _ in range(5)]
    seventeens = [article("120", assortment_days=17) for _ in range(2)]
    coop = _order(rx, ordinary, central, sevens + seventeens)
    on_time, one_day_late, late_over_boundary, still_open, next_month = coop[:5]
    seventeen_early, seventeen_cancelled = coop[5:]
    _set(on_time, day(day=10), day(day=10))
    _set(one_day_late, day(day=10), day(day=11))
    # Promised on the month's last day and delivered in the next: late, counted in M.
    _set(late_over_boundary, month_end(M), NEXT)
    _set(still_open, day(day=1), None)
    # Promised on the next month's first day, delivered early in M: on time, counted in NEXT.
    _set(next_month, NEXT, month_end(M))
    _set(seventeen_early, day(day=5), day(day=3))
    _set(seventeen_cancelled, day(day=5), None, LineState.CANCELLED)
    understanding = _order(
        rx, ordinary, central, [article("100")], agreement_type=AgreementType.UNDERSTANDING
    )
    _set(understanding[0], day(day=10), day(day=10))
    urgent = _order(rx, ordinary, central, [article("100"), article("100")], urgent=True)
    _set(urgent[0], day(day=12), day(day=12))
    _set(urgent[1], day(day=12), day(day=13))
    not_yet = _order(rx, ordinary, central, [article("100")])
    _set(not_yet[0], TODAY, None)
    return {
        "missed": {one_day_late.pk, late_over_boundary.pk, still_open.pk},
        "urgent_missed": {urgent[1].pk},
    }


def _cell(rows, agreement, kind, month):
    row = next(r for r in rows if r.agreement == agreement and r.kind == kind)
    return next(c for c in row.cells if c.month == month)


def test_kpi_1_on_time_and_late_per_assortment_and_agreement(lines):
    rows = kpi1_table(months=MONTHS, today=TODAY)
    seven = _cell(rows, AgreementType.COOPERATION, SEVEN, M)
    # On time, one day late, late over the month's end, open after its promise.
    assert (seven.total, seven.on_time, seven.percent) == (4, 1, Decimal("25.00"))
    assert seven.below_target
    assert seven.target == Decimal("98")
    # The cancelled line is not counted; delivered before the promise is on time.
    seventeen = _cell(rows, AgreementType.COOPERATION, SEVENTEEN, M)
    assert (seventeen.total, seventeen.on_time, seventeen.percent) == (1, 1, Decimal("100.00"))
    assert not seventeen.below_target
    understanding = _cell(rows, AgreementType.UNDERSTANDING, SEVEN, M)
    assert (understanding.total, understanding.on_time) == (1, 1)
    assert _cell(rows, AgreementType.UNDERSTANDING, URGENT, M).total == 0


def test_kpi_1_a_line_counts_in_the_month_of_its_promise(lines):
    rows = kpi1_table(months=MONTHS, today=TODAY)
    following = _cell(rows, AgreementType.COOPERATION, SEVEN, NEXT)
    assert (following.total, following.on_time) == (1, 1)
    # An open line whose promise is today has not missed it yet: not counted.
    assert _cell(rows, AgreementType.COOPERATION, SEVEN, MONTHS[-1]).total == 0


def test_kpi_1_urgent_orders_count_apart_against_100_percent(lines):
    rows = kpi1_table(months=MONTHS, today=TODAY)
    urgent = _cell(rows, AgreementType.COOPERATION, URGENT, M)
    assert (urgent.total, urgent.on_time, urgent.percent) == (2, 1, Decimal("50.00"))
    assert urgent.target == Decimal("100")
    assert urgent.below_target


@pytest.mark.parametrize(
    ("on_time", "target", "below"),
    [(49, "98", False), (48, "98", True), (49, "100", True), (50, "100", False)],
)
def test_kpi_1_the_target_is_compared_exactly(on_time, target, below):
    cell = Cell(month=M, total=50, on_time=on_time, target=Decimal(target))
    assert cell.below_target is below


def test_kpi_1_the_missed_lines_of_a_cell_are_exactly_its_missed_lines(lines):
    missed = kpi1_missed_lines(month=M, kind=SEVEN, agreement="cooperation", today=TODAY)
    assert {line.pk for line in missed} == lines["missed"]
    urgent = kpi1_missed_lines(month=M, kind=URGENT, agreement="cooperation", today=TODAY)
    assert {line.pk for line in urgent} == lines["urgent_missed"]


# Session, user and role checks, and the whole table in one grouped query: no query per cell.
KPI_QUERIES = 5


def _staff(client: Client) -> None:
    logged_in(client, UserFactory(username="lager", role="logistics"))


def test_kpi_1_the_page_is_a_table_with_a_chart_and_links_to_the_missed_lines(
    client, lines, django_assert_num_queries
):
    _staff(client)
    url = f"/logistics/kpi/?until={M.year:04d}-{M.month:02d}"
    client.get(url)
    with django_assert_num_queries(KPI_QUERIES):
        response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<table" in html
    assert "<caption" in html
    assert "<svg" in html
    assert 'role="img"' in html
    assert "25.00 %" in html
    assert "below target" in html
    missed_url = (
        f"/logistics/kpi/missed/?month={M.year:04d}-{M.month:02d}"
        "&amp;kind=7&amp;agreement=cooperation"
    )
    assert missed_url in html
    page = client.get(missed_url.replace("&amp;", "&")).content.decode()
    for line in CustomerOrderLine.objects.filter(pk__in=lines["missed"]).select_related("order"):
        assert line.order.number in page
    assert page.count('<th class="aksel-table__header-cell" scope="row">') == 3
    assert "Not delivered" in page


@pytest.mark.parametrize(
    "query",
    [
        "month=0000-01&kind=7&agreement=cooperation",
        "month=2026-13&kind=7&agreement=cooperation",
        "month=2026-01%0A&kind=7&agreement=cooperation",
        "month=jan&kind=7&agreement=cooperation",
        "month=2026-01&kind=9&agreement=cooperation",
        "month=2026-01&kind=7&agreement=other",
        "",
    ],
)
def test_kpi_1_a_malformed_cell_is_not_found(client, query):
    _staff(client)
    assert client.get(f"/logistics/kpi/missed/?{query}").status_code == 404


@pytest.mark.parametrize("url", ["/logistics/kpi/", "/logistics/kpi/missed/"])
def test_kpi_1_anonymous_is_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "login" in response["Location"]


# Session, user and role checks, the paginator's count and the page of lines.
MISSED_QUERIES = 6


def test_kpi_1_the_missed_lines_page_pins_its_query_count(
    client, lines, rx, ordinary, central, django_assert_num_queries
):
    _staff(client)
    more = _order(rx, ordinary, central, [article("100"), article("100")])
    for line in more:
        _set(line, M.replace(day=20), None)
    url = f"/logistics/kpi/missed/?month={M.year:04d}-{M.month:02d}&kind=7&agreement=cooperation"
    with django_assert_num_queries(MISSED_QUERIES):
        page = client.get(url).content.decode()
    assert page.count('<th class="aksel-table__header-cell" scope="row">') == 5
