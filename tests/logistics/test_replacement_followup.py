"""KPI-4: replacement groups per quarter: prescribed against bought, and ready in stock."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from logistics.models import StockLevel
from logistics.selectors.replacement_followup import replacement_group_follow_up
from logistics.services.purchasing import ReceiptLineInput, goods_receipt_record
from patients.models import Patient
from prescriptions.models import Article, ReplacementGroup, ReplacementKind
from prescriptions.selectors.followup import Quarter
from tests.factories import UserFactory
from tests.logistics.factories import StockLevelFactory, StockLocationFactory
from tests.personas import logged_in
from tests.prescriptions.conftest import all_areas, article, ordinary, rx  # noqa: F401
from tests.prescriptions.drafting import draft_with, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def groups(rx: Any, ordinary: Patient) -> dict[str, Any]:  # noqa: F811
    walkers = ReplacementGroup.objects.create(code="G-ROLL", kind=ReplacementKind.OPTIONAL)
    beds = ReplacementGroup.objects.create(code="G-SANG", kind=ReplacementKind.FIXED)
    empty_shelf = article(name="Rollator Slut", article_number="R1", replacement_group=walkers)
    stocked = article(name="Rollator Finns", article_number="R2", replacement_group=walkers)
    old = article(
        name="Rollator Gammal", article_number="R3", replacement_group=walkers, in_assortment=False
    )
    bed = article(name="Säng Ingen", article_number="S1", replacement_group=beds)
    central = StockLocationFactory.create()
    StockLevelFactory.create(location=central, article=empty_shelf, physical=0)
    StockLevelFactory.create(location=central, article=old, physical=9)
    store_worker = UserFactory.create(role="logistics")
    goods_receipt_record(
        location_id=central.pk,
        by=store_worker,
        lines=[ReceiptLineInput(key="a", article_id=stocked.pk, quantity=4)],
    )
    # In stock when prescribed (an empty shelf would be replaced, PRESC-8).
    submit(rx, draft_with(rx, ordinary, stocked, bed))
    submit(rx, draft_with(rx, ordinary, stocked))
    return {"walkers": walkers, "beds": beds, "bed": bed}


def test_kpi_4_prescribed_against_bought_per_group_and_whether_it_is_ready_in_stock(
    groups: dict[str, Any], django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(5):
        rows = replacement_group_follow_up(quarter=Quarter.of(timezone.localdate()))
    by_code = {row.code: row for row in rows}
    walkers = by_code["G-ROLL"]
    assert (walkers.prescribed, walkers.bought) == (2, 4)
    # The central store's figure: what was received less what the prescriptions reserved.
    stocked = StockLevel.objects.get(article__article_number="R2")
    assert stocked.available > 0
    assert [(a.article_number, a.available) for a in walkers.articles] == [
        ("R1", 0),
        ("R2", stocked.available),
        ("R3", 9),
    ]
    assert walkers.ready
    beds = by_code["G-SANG"]
    assert (beds.prescribed, beds.bought) == (1, 0)
    assert [(a.article_number, a.available) for a in beds.articles] == [("S1", None)]
    assert not beds.ready


def test_kpi_4_a_group_whose_only_stock_is_phased_out_is_not_ready(
    groups: dict[str, Any],
) -> None:
    Article.objects.filter(article_number="R2").update(in_assortment=False)
    rows = replacement_group_follow_up(quarter=Quarter.of(timezone.localdate()))
    assert not next(row for row in rows if row.code == "G-ROLL").ready


def test_kpi_4_the_assortment_owner_reads_the_page(client: Client, groups: dict[str, Any]) -> None:
    logged_in(client, UserFactory.create(role="assortment_owner"))
    response = client.get("/logistics/kpi/replacement-groups/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "G-ROLL" in page
    available = StockLevel.objects.get(article__article_number="R2").available
    assert f"R2 Rollator Finns: {available}" in page
    assert "R1 Rollator Slut: 0" in page


@pytest.mark.parametrize("role", ["logistics", "prescriber", "customer_service"])
def test_kpi_4_denied_the_page_for_other_roles(client: Client, role: str) -> None:
    logged_in(client, UserFactory.create(role=role))
    assert client.get("/logistics/kpi/replacement-groups/").status_code == 403
