"""The logistics start page's queues (the issue's "Queues and pages"): each queue counts what
is waiting in its state, all counts in one query; a queue's list names orders, articles and
units and never a patient (PRESC-2/PRINT-1 on screen: the staff hold no grants)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from logistics.models import (
    CustomerOrder,
    CustomerOrderLine,
    LineState,
    Package,
    PackageState,
    PickWave,
    WaveState,
)
from logistics.selectors.queues import QUEUES, queue_counts
from patients.models import PatientIdentity
from tests.factories import UserFactory
from tests.logistics.conftest import approved
from tests.logistics.picking_setup import (
    allocated_order,
    allocated_replenishment,
    area_all_week,
    stocked,
)
from tests.personas import PROTECTED_NUMBER, logged_in
from tests.prescriptions.conftest import article

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
LATER = TODAY + datetime.timedelta(days=5)
EARLIER = TODAY - datetime.timedelta(days=1)
L = LineState


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _order(rx: Any, patient: Any, central: Any, count: int, **kwargs: Any) -> CustomerOrder:
    articles = [article("100") for _ in range(count)]
    for each in articles:
        stocked(each, central)
    return allocated_order(
        approved(rx, patient, *articles, stepped_up=kwargs.get("protected", False)),
        central,
        *articles,
        **kwargs,
    )


def _states(order: CustomerOrder, *states: str, promised: datetime.date = LATER) -> None:
    for line, state in zip(
        CustomerOrderLine.objects.filter(order=order).order_by("position"), states, strict=True
    ):
        CustomerOrderLine.objects.filter(pk=line.pk).update(
            state=state,
            promised_on=promised,
            delivered_on=promised if state == L.DELIVERED else None,
        )


@pytest.fixture
def work(rx, ordinary, protected_patient, central, store_worker):
    everyday = _order(rx, ordinary, central, 8)
    _states(everyday, L.RECEIVED, L.BACKORDERED, L.BACKORDERED, L.ALLOCATED, L.PICKING,
            L.PICKED, L.DISPATCHED, L.DELIVERED)  # fmt: skip
    late = _order(rx, ordinary, central, 2)
    # Open and past the promise: late; delivered or cancelled lines are in no queue.
    _states(late, L.ALLOCATED, L.CANCELLED, promised=EARLIER)
    urgent = _order(rx, ordinary, central, 1)
    CustomerOrder.objects.filter(pk=urgent.pk).update(urgent=True)
    _states(urgent, L.RECEIVED)
    hidden = _order(rx, protected_patient, central, 1, protected=True)
    _states(hidden, L.PICKED)
    refill = article("50")
    stocked(refill, central)
    replenishment = allocated_replenishment(everyday.unit, rx, central, refill)
    _states(replenishment, L.ALLOCATED)
    area = area_all_week()
    for wave_state in (WaveState.OPEN, WaveState.OPEN, WaveState.PICKED):
        PickWave.objects.create(
            store=central, delivery_on=TODAY, area=area, state=wave_state, created_by=store_worker
        )
    for state in (
        PackageState.PACKED,
        PackageState.DISPATCHED,
        PackageState.DISPATCHED,
        PackageState.FAILED,
        PackageState.DELIVERED,
    ):
        Package.objects.create(
            order=everyday, area=area, delivery_on=TODAY, state=state, packed_by=store_worker
        )
    return {"everyday": everyday, "hidden": hidden, "replenishment": replenishment}


EXPECTED = {
    "to-allocate": 4,  # received x2 (everyday, urgent), backordered x2
    "waiting": 2,
    "to-pick": 3,  # everyday, late, replenishment
    "picking": 1,
    "to-pack": 2,  # everyday, the protected patient's
    "out": 1,
    "late": 1,
    "urgent": 1,
    "replenishments": 1,
    "waves": 2,
    "to-dispatch": 1,
    "to-confirm": 2,
    "failed": 1,
    # Counted with their own data in test_direct.py and test_stock_pages.py.
    "direct": 0,
    "withdraw": 0,
    "proposals": 0,
}


def test_every_queue_counts_its_rows_in_one_query(work, django_assert_num_queries):
    assert {q.slug for q in QUEUES} == set(EXPECTED)
    with django_assert_num_queries(1):
        counts = queue_counts(day=TODAY)
    assert {c.queue.slug: c.count for c in counts} == EXPECTED


def _staff(client: Client) -> None:
    logged_in(client, UserFactory(username="lager2", role="logistics"))


def test_the_start_page_shows_each_count_and_links(client, work):
    _staff(client)
    html = client.get("/logistics/").content.decode()
    assert "/logistics/queue/to-pack/" in html
    assert "Order lines to allocate" in html


def _list_queries(client: Client, django_assert_num_queries: Any, url: str) -> str:
    # Session, user and role, the count and the page of lines: however many lines there are.
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


LIST_QUERIES = 6


def test_the_list_names_order_article_and_unit_never_a_patient(
    client, work, django_assert_num_queries
):
    """PRESC-2/PRINT-1 on screen: the protected patient's line is listed by order number."""
    _staff(client)
    client.get("/logistics/queue/to-pack/")
    html = _list_queries(client, django_assert_num_queries, "/logistics/queue/to-pack/")
    hidden_line = CustomerOrderLine.objects.select_related("article", "order__unit__unit").get(
        order=work["hidden"]
    )
    assert work["hidden"].number in html
    assert work["everyday"].number in html
    assert hidden_line.article.article_number in html
    assert hidden_line.order.unit.unit.name in html
    assert "Testsson" not in html
    for identity in PatientIdentity.objects.all():
        assert identity.personal_identity_number not in html
        assert identity.personal_identity_number[2:8] not in html
    assert PROTECTED_NUMBER not in html


def test_the_list_query_count_does_not_grow_with_its_lines(
    client, work, rx, ordinary, central, django_assert_num_queries
):
    _staff(client)
    more = _order(rx, ordinary, central, 3)
    _states(more, L.PICKED, L.PICKED, L.PICKED)
    html = _list_queries(client, django_assert_num_queries, "/logistics/queue/to-pack/")
    assert more.number in html


def test_an_unknown_queue_or_one_without_a_list_is_not_found(client):
    _staff(client)
    assert client.get("/logistics/queue/nope/").status_code == 404
    # The waves queue links to its own page; it has no list of order lines here.
    assert client.get("/logistics/queue/waves/").status_code == 404


@pytest.mark.parametrize("url", ["/logistics/", "/logistics/queue/late/"])
def test_a_prescriber_is_denied_and_anonymous_sent_to_log_in(client, url):
    assert client.get(url).status_code == 302
    logged_in(client, UserFactory(username="anna2", role="prescriber"))
    assert client.get(url).status_code == 403
