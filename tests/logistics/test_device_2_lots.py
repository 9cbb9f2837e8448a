"""Lot numbers (DEVICE-2): the supplier's lot is recorded at goods receipt and shown on the
device card, and a safety notice limited to a lot range finds exactly the devices of those lots
(a device without a lot number is outside any lot range), in the same statements as without one;
the notice form refuses half a lot range and a reversed one on the articles field."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from logistics.models import Device, NoticeAction, NoticeDevice, SafetyNotice, StockLocation
from logistics.services.purchasing import purchase_orders_create, stock_reorder_set
from logistics.services.recalls import NoticeArticleInput, notice_create, notice_publish
from prescriptions.models import Article
from tests.logistics.factories import DeviceFactory
from tests.personas import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def test_device_2_a_lot_range_finds_exactly_the_devices_of_those_lots(
    store_worker: Any, rollator: Article, central: StockLocation
) -> None:
    inside = {
        DeviceFactory(article=rollator, location=central, lot_number=lot).pk
        for lot in ("L-2024-03", "L-2024-05")
    }
    DeviceFactory(article=rollator, location=central, lot_number="L-2024-09")
    DeviceFactory(article=rollator, location=central, lot_number="L-2023-12")
    DeviceFactory(article=rollator, location=central)
    notice = notice_create(
        by=store_worker,
        title="Bromsen kan lossna",
        description="Kontrollera bromsvajern.",
        action=NoticeAction.INSPECT,
        articles=[
            NoticeArticleInput(rollator.article_number, lot_from="L-2024-01", lot_to="L-2024-06")
        ],
    )
    assert notice_publish(notice_id=notice.pk, by=store_worker).found == 2
    assert set(NoticeDevice.objects.values_list("device_id", flat=True)) == inside


def test_device_2_a_lot_range_and_a_serial_range_both_limit(
    store_worker: Any, rollator: Article, central: StockLocation
) -> None:
    inside = DeviceFactory(
        article=rollator, location=central, serial_number="RL-0100", lot_number="L1"
    )
    DeviceFactory(article=rollator, location=central, serial_number="RL-0101", lot_number="L7")
    DeviceFactory(article=rollator, location=central, serial_number="RL-0900", lot_number="L1")
    notice = notice_create(
        by=store_worker,
        title="Bromsen",
        description="Text",
        action=NoticeAction.INSPECT,
        articles=[NoticeArticleInput(rollator.article_number, "RL-0001", "RL-0500", "L1", "L2")],
    )
    notice_publish(notice_id=notice.pk, by=store_worker)
    assert list(NoticeDevice.objects.values_list("device_id", flat=True)) == [inside.pk]


@pytest.mark.parametrize(
    ("lots", "message"),
    [
        ("lot L-1", "Lot numbers: give both the first and the last lot number"),
        ("lot L-9 L-1", "Lot numbers: the first lot number must come before the last"),
        ("RL-1 RL-9 lot", "the word lot and the first and the last lot number"),
    ],
)
def test_device_2_the_notice_form_refuses_half_or_reversed_lot_range_on_the_field(
    client: Client, store_worker: Any, rollator: Article, lots: str, message: str
) -> None:
    logged_in(client, store_worker)
    typed = f"{rollator.article_number} {lots}"
    response = client.post(
        "/logistics/notices/new/",
        {"title": "Bromsen", "action": "retrofit", "description": "Text", "articles": typed},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["articles"]
    assert any(message in error for error in errors)
    assert typed in response.content.decode()
    assert not SafetyNotice.objects.exists()


def test_device_2_the_notice_form_takes_a_lot_range_and_shows_it(
    client: Client, store_worker: Any, rollator: Article
) -> None:
    logged_in(client, store_worker)
    response = client.post(
        "/logistics/notices/new/",
        {
            "title": "Bromsen",
            "action": "retrofit",
            "description": "Text",
            "articles": f"{rollator.article_number} RL-1 RL-9 LOT L-1 L-4",
        },
    )
    assert response.status_code == 302
    entry = SafetyNotice.objects.get().articles.get()
    assert (entry.serial_from, entry.serial_to, entry.lot_from, entry.lot_to) == (
        "RL-1",
        "RL-9",
        "L-1",
        "L-4",
    )
    page = client.get(response["Location"]).content.decode()
    assert "lot numbers L-1 to L-4" in page


def test_device_2_goods_receipt_stores_the_lot_and_the_card_shows_it(
    client: Client, central: StockLocation, rollator: Article, store_worker: Any
) -> None:
    level = stock_reorder_set(
        article_id=rollator.pk, location_id=central.pk, reorder_point=2, reorder_quantity=0
    )
    [order] = purchase_orders_create(
        quantities={level.pk: 2}, by=store_worker, location_id=central.pk
    )
    line = order.lines.get()
    logged_in(client, store_worker)
    url = f"/logistics/stock/purchase-orders/{order.number}/receive/"
    assert f'name="lot_{line.pk}"' in client.get(url).content.decode()
    done = client.post(
        url,
        {
            f"quantity_{line.pk}": "2",
            f"serials_{line.pk}": "SN-A\nSN-B",
            f"lot_{line.pk}": " L-2026-11 ",
        },
    )
    assert done.status_code == 302
    assert dict(Device.objects.values_list("serial_number", "lot_number")) == {
        "SN-A": "L-2026-11",
        "SN-B": "L-2026-11",
    }
    device = Device.objects.get(serial_number="SN-A")
    card = client.get(f"/logistics/devices/{device.pk}/")
    assert card.status_code == 200
    assert "L-2026-11" in card.content.decode()
