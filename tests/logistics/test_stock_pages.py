"""The logistics staff's stock pages: stores, a store's levels, the purchase proposal list and
purchase orders made from it; refused to a prescriber and to an anonymous user."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from logistics.models import PurchaseOrder, StockLevel, StockLocation
from prescriptions.models import Article
from tests.factories import UserFactory
from tests.logistics.factories import StockLevelFactory
from tests.personas import logged_in

pytestmark = pytest.mark.django_db


def test_the_stores_page_lists_stores_with_article_counts(
    client: Client, central: StockLocation, rollator: Article, pads: Article, store_worker: Any
) -> None:
    StockLevelFactory(location=central, article=rollator)
    StockLevelFactory(location=central, article=pads)
    logged_in(client, store_worker)
    response = client.get("/logistics/stock/")
    assert response.status_code == 200
    stores = response.context["stores"]
    assert [(s.code, s.articles) for s in stores] == [("central", 2)]
    assert "/logistics/stock/central/" in response.content.decode()


def test_a_stores_levels_are_searchable_with_pinned_queries(
    client: Client,
    central: StockLocation,
    rollator: Article,
    pads: Article,
    store_worker: Any,
    django_assert_num_queries: Any,
) -> None:
    StockLevelFactory(location=central, article=rollator, physical=4, reorder_point=2)
    StockLevelFactory(location=central, article=pads, physical=7)
    logged_in(client, store_worker)
    client.get("/logistics/stock/central/")  # warm the session and the permission cache
    # Session, user, the role's and the user's permissions (the menu), store, count, and one
    # page of levels with their articles joined: the same for any number of articles.
    with django_assert_num_queries(7):
        response = client.get("/logistics/stock/central/")
    by_number = sorted([rollator, pads], key=lambda a: a.article_number)
    listed = [lv.article_id for lv in response.context["page"].object_list]
    assert listed == [a.pk for a in by_number]
    searched = client.get("/logistics/stock/central/", {"q": rollator.article_number})
    assert [lv.article_id for lv in searched.context["page"].object_list] == [rollator.pk]
    assert client.get("/logistics/stock/nowhere/").status_code == 404


def test_proposals_become_purchase_orders_from_the_list(
    client: Client, central: StockLocation, rollator: Article, store_worker: Any
) -> None:
    level = StockLevelFactory(
        location=central, article=rollator, physical=0, reorder_point=3, reorder_quantity=2
    )
    logged_in(client, store_worker)
    start = client.get("/logistics/")
    assert "/logistics/stock/proposals/" in start.content.decode()
    page = client.get("/logistics/stock/proposals/")
    [group] = page.context["groups"]
    assert [p.level.pk for p in group.proposals] == [level.pk]
    response = client.post("/logistics/stock/proposals/")
    assert response.status_code == 302
    order = PurchaseOrder.objects.get()
    assert order.supplier_id == rollator.agreement.supplier_id
    level.refresh_from_db()
    assert level.on_order == 3
    assert client.get("/logistics/stock/proposals/").context["groups"] == []
    assert StockLevel.objects.get(pk=level.pk).on_order == 3


@pytest.mark.parametrize(
    "url", ["/logistics/stock/", "/logistics/stock/central/", "/logistics/stock/proposals/"]
)
def test_denied_a_prescriber_and_an_anonymous_user_are_refused(
    client: Client, central: StockLocation, url: str
) -> None:
    assert client.get(url).status_code == 302
    assert "/login" in client.get(url)["Location"] or "login" in client.get(url)["Location"]
    logged_in(client, UserFactory(username="anna", role="prescriber"))
    assert client.get(url).status_code == 403
    # A missing store looks the same as an existing one to someone without the permission.
    assert client.get("/logistics/stock/nowhere/").status_code == 403
