"""The logistics staff's stock pages: stores, a store's levels, the purchase proposal list and
purchase orders made from it; refused to a prescriber and to an anonymous user."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from logistics.models import (
    Device,
    PurchaseOrder,
    PurchaseOrderState,
    StockLevel,
    StockLocation,
)
from logistics.services.purchasing import (
    ReceiptLineInput,
    ReceiptRefused,
    goods_receipt_record,
    purchase_orders_create,
    stock_reorder_set,
)
from prescriptions.models import Article
from tests.factories import UserFactory
from tests.logistics.factories import DeviceFactory, StockLevelFactory
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
    [entry] = [e for e in start.context["entries"] if e["url"] == "/logistics/stock/proposals/"]
    assert entry["count"] == 1
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
    [entry] = [
        e
        for e in client.get("/logistics/").context["entries"]
        if e["url"] == "/logistics/stock/proposals/"
    ]
    assert entry["count"] == 0
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


def test_the_article_stock_page_shows_the_level_orders_and_devices_and_sets_the_reorder_point(
    client: Client, central: StockLocation, rollator: Article, store_worker: Any
) -> None:
    """DEVICE-1: the store's individual devices of the article are listed by serial."""
    StockLevelFactory(location=central, article=rollator, physical=2)
    DeviceFactory(article=rollator, location=central, serial_number="RX-77")
    logged_in(client, store_worker)
    url = f"/logistics/stock/central/{rollator.article_number}/"
    page = client.get(url)
    assert page.status_code == 200
    assert "RX-77" in page.content.decode()
    response = client.post(url, {"reorder_point": "4", "reorder_quantity": "6"})
    assert response.status_code == 302
    level = StockLevel.objects.get(location=central, article=rollator)
    assert (level.reorder_point, level.reorder_quantity) == (4, 6)
    refused = client.post(url, {"reorder_point": "-1", "reorder_quantity": "6"})
    assert refused.status_code == 200
    assert refused.context["form"].errors["reorder_point"]
    assert client.get("/logistics/stock/central/NOPE/").status_code == 404


def _ordered(central: StockLocation, rollator: Article, worker: Any, quantity: int) -> Any:
    level = stock_reorder_set(
        article_id=rollator.pk, location_id=central.pk, reorder_point=quantity, reorder_quantity=0
    )
    [order] = purchase_orders_create(
        quantities={level.pk: quantity}, by=worker, location_id=central.pk
    )
    return order


def test_device_1_goods_receipt_form_makes_devices_and_leaves_the_rest_open(
    client: Client, central: StockLocation, rollator: Article, store_worker: Any
) -> None:
    order = _ordered(central, rollator, store_worker, 3)
    line = order.lines.get()
    logged_in(client, store_worker)
    assert order.number in client.get("/logistics/stock/purchase-orders/").content.decode()
    url = f"/logistics/stock/purchase-orders/{order.number}/receive/"
    assert client.get(url).status_code == 200
    too_many = client.post(url, {f"quantity_{line.pk}": "5", f"serials_{line.pk}": "A\nB\nC\nD\nE"})
    assert too_many.status_code == 200
    form = too_many.context["form"]
    assert "3" in form.errors[f"quantity_{line.pk}"][0]
    # What the user typed stays in the form.
    assert form[f"serials_{line.pk}"].value() == "A\nB\nC\nD\nE"
    bad_gtin = client.post(
        url,
        {
            f"quantity_{line.pk}": "1",
            f"serials_{line.pk}": "A",
            f"gtin_{line.pk}": "07340000000018",
        },
    )
    assert bad_gtin.context["form"].errors[f"gtin_{line.pk}"]
    done = client.post(
        url,
        {
            f"quantity_{line.pk}": "2",
            f"serials_{line.pk}": "SN-A\n\nSN-B\n",
            f"gtin_{line.pk}": rollator.gtin,
        },
    )
    assert done.status_code == 302
    assert set(Device.objects.values_list("serial_number", flat=True)) == {"SN-A", "SN-B"}
    line.refresh_from_db()
    assert (line.received, line.outstanding) == (2, 1)
    order.refresh_from_db()
    assert order.state == PurchaseOrderState.PARTLY_RECEIVED
    # The rest stays open on the form.
    assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/logistics/stock/central/2900/",
        "/logistics/stock/purchase-orders/",
        "/logistics/stock/purchase-orders/P-1/receive/",
    ],
)
def test_denied_the_article_and_purchase_pages_for_a_prescriber_and_anonymous(
    client: Client, central: StockLocation, url: str
) -> None:
    assert client.get(url).status_code == 302
    logged_in(client, UserFactory(username="anna", role="prescriber"))
    assert client.get(url).status_code == 403


def test_device_1_the_same_line_on_two_rows_of_one_receipt_cannot_exceed_the_order(
    central: StockLocation, rollator: Article, store_worker: Any
) -> None:
    order = _ordered(central, rollator, store_worker, 3)
    line = order.lines.get()

    def row(key: str, serials: tuple[str, ...]) -> ReceiptLineInput:
        return ReceiptLineInput(
            key=key,
            article_id=rollator.pk,
            quantity=len(serials),
            serial_numbers=serials,
            purchase_order_line_id=line.pk,
        )

    with pytest.raises(ReceiptRefused) as refused:
        goods_receipt_record(
            location_id=central.pk,
            purchase_order_id=order.pk,
            by=store_worker,
            lines=[row("a", ("S-1", "S-2")), row("b", ("S-3", "S-4"))],
        )
    assert (refused.value.key, refused.value.field) == ("b", "quantity")
    assert "1 left" in str(refused.value) or "1 kvar" in str(refused.value)
    assert not Device.objects.exists()
