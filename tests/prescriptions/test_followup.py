"""KPI-5: prescribing per article, product area and unit, and articles without demand."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from patients.models import Patient
from prescriptions.models import Prescription
from prescriptions.selectors.followup import Quarter, prescribing_follow_up
from tests.factories import UserFactory
from tests.personas import logged_in
from tests.prescriptions.conftest import article
from tests.prescriptions.drafting import draft_with, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def prescribed(rx: Any, ordinary: Patient) -> dict[str, Any]:
    walker = article(name="Rollator Follow", article_number="F1")
    bed = article(name="Säng Follow", article_number="F2", area_code="daily_living")
    idle = article(name="Rollator Ingen", article_number="F3")
    phased_out = article(name="Rollator Utfasad", article_number="F4", in_assortment=False)
    submit(rx, draft_with(rx, ordinary, walker, bed))
    submit(rx, draft_with(rx, ordinary, walker))
    # A draft was never prescribed; one submitted last quarter is that quarter's.
    draft_with(rx, ordinary, idle)
    old = submit(rx, draft_with(rx, ordinary, idle))
    this = Quarter.of(timezone.localdate())
    Prescription.objects.filter(pk=old.pk).update(
        submitted_at=timezone.make_aware(
            datetime.datetime.combine(
                this.first_day - datetime.timedelta(days=1), datetime.time(12)
            )
        )
    )
    return {"walker": walker, "bed": bed, "idle": idle, "phased_out": phased_out, "quarter": this}


def test_kpi_5_prescribing_per_area_article_and_unit_and_the_articles_without_demand(
    rx: Any, prescribed: dict[str, Any], django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(4):
        report = prescribing_follow_up(quarter=prescribed["quarter"])
    assert [(r.product_area, r.lines, r.quantity) for r in report.per_area] == [
        ("daily_living", 1, 1),
        ("mobility", 2, 2),
    ]
    unit = Prescription.objects.select_related("unit__unit").first()
    assert unit is not None
    rows = [(r.article_number, r.prescriptions, r.quantity) for r in report.per_article_and_unit]
    assert rows == [("F2", 1, 1), ("F1", 2, 2)]
    assert {r.unit for r in report.per_article_and_unit} == {unit.unit.unit.name}
    idle_numbers = [a.article_number for a in report.without_demand]
    assert "F3" in idle_numbers
    assert "F1" not in idle_numbers
    assert "F2" not in idle_numbers
    # Phased out already: not a candidate for phasing out.
    assert "F4" not in idle_numbers
    assert report.without_demand_total == len(idle_numbers)

    earlier = prescribing_follow_up(
        quarter=Quarter.of(prescribed["quarter"].first_day - datetime.timedelta(days=1))
    )
    assert [(r.article_number, r.prescriptions) for r in earlier.per_article_and_unit] == [
        ("F3", 1)
    ]


def test_kpi_5_the_assortment_owner_reads_the_follow_up_page(
    client: Client, prescribed: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    owner = UserFactory.create(role="assortment_owner")
    logged_in(client, owner)
    with django_assert_max_num_queries(14):
        response = client.get("/catalogue/follow-up/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "F1 Rollator Follow" in page
    assert "F3 Rollator Ingen" in page
    assert "Rollator Utfasad" not in page
    quarter = prescribed["quarter"]
    assert f"quarter {quarter.quarter} {quarter.year}" in page
    # A bad quarter is named next to its field, and what was typed stays.
    bad = client.get("/catalogue/follow-up/", {"year": "20x6", "quarter": "5"}).content.decode()
    assert 'value="20x6"' in bad
    assert "Year: " in bad
    assert "Quarter: " in bad


@pytest.mark.parametrize("role", ["prescriber", "technician", "customer_service"])
def test_kpi_5_denied_the_follow_up_for_other_roles(client: Client, role: str) -> None:
    logged_in(client, UserFactory.create(role=role))
    assert client.get("/catalogue/follow-up/").status_code == 403


def test_kpi_5_denied_anonymous_is_sent_to_login(client: Client) -> None:
    response = client.get("/catalogue/follow-up/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
