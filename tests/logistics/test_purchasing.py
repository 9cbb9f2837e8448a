"""Reorder point → purchase proposal → purchase order (on order up) → goods receipt (physical
up, on order down, DEVICE-1 devices with their first history row); GS1 scans; refusals that
name the line's field."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import translation

from logistics.gs1 import GS, gtin_valid, scan_parse
from logistics.models import (
    Device,
    DeviceEvent,
    PurchaseOrder,
    PurchaseOrderState,
    StockLevel,
    StockLocation,
)
from logistics.services.purchasing import (
    ReceiptLineInput,
    ReceiptRefused,
    goods_receipt_record,
    proposal_quantity,
    purchase_orders_create,
    stock_reorder_set,
)
from prescriptions.models import Article

pytestmark = pytest.mark.django_db


def test_gtin_check_digit_and_gs1_scans_are_split() -> None:
    assert gtin_valid("07340000000017")
    assert gtin_valid("7340000000017")
    assert not gtin_valid("07340000000018")
    printed = scan_parse("(01)07340000000017(21)SN-1")
    assert printed is not None
    assert (printed.gtin, printed.serial) == ("07340000000017", "SN-1")
    raw = scan_parse(f"]d20107340000000017{GS}21SN-2{GS}17261231")
    assert raw is not None
    assert (raw.gtin, raw.serial) == ("07340000000017", "SN-2")
    bare = scan_parse("010734000000001721SN-3")
    assert bare is not None
    assert bare.serial == "SN-3"
    assert scan_parse("SN-4") is None
    assert scan_parse("0123") is None


def test_reorder_point_proposal_purchase_order_and_receipt(
    central: StockLocation, rollator: Article, store_worker: Any
) -> None:
    """DEVICE-1: receiving serials makes devices with lifespan, warranty and service dates."""
    Article.objects.filter(pk=rollator.pk).update(warranty_months=24, service_interval_months=12)
    rollator.refresh_from_db()
    level = stock_reorder_set(
        article_id=rollator.pk, location_id=central.pk, reorder_point=3, reorder_quantity=2
    )
    # Nothing there: 2 is below 3, so enough to reach the point is proposed.
    assert proposal_quantity(level) == 3
    [order] = purchase_orders_create(
        quantities={level.pk: 3}, by=store_worker, location_id=central.pk
    )
    assert order.supplier_id == rollator.agreement.supplier_id
    level.refresh_from_db()
    assert level.on_order == 3
    assert proposal_quantity(level) == 0
    po_line = order.lines.get()
    receipt = goods_receipt_record(
        location_id=central.pk,
        purchase_order_id=order.pk,
        by=store_worker,
        received_on=datetime.date(2026, 12, 1),
        lines=[
            ReceiptLineInput(
                key="a",
                article_id=rollator.pk,
                quantity=2,
                serial_numbers=("R-1", "R-2"),
                gtin="07340000000017",
                purchase_order_line_id=po_line.pk,
            )
        ],
    )
    level.refresh_from_db()
    assert (level.physical, level.on_order) == (2, 1)
    order.refresh_from_db()
    assert order.state == PurchaseOrderState.PARTLY_RECEIVED
    device = Device.objects.get(serial_number="R-1")
    assert device.location == central
    assert device.warranty_until == datetime.date(2028, 12, 1)
    assert device.next_service_on == datetime.date(2027, 12, 1)
    assert device.lifespan_until == datetime.date(2034, 12, 1)
    first = DeviceEvent.objects.get(device=device)
    assert first.from_state == ""
    assert receipt.number in first.note
    # A second receipt in a row: the figures add up under the level lock.
    goods_receipt_record(
        location_id=central.pk,
        purchase_order_id=order.pk,
        by=store_worker,
        lines=[
            ReceiptLineInput(
                key="a",
                article_id=rollator.pk,
                quantity=1,
                serial_numbers=("R-3",),
                purchase_order_line_id=po_line.pk,
            )
        ],
    )
    level.refresh_from_db()
    assert (level.physical, level.on_order) == (3, 0)
    order.refresh_from_db()
    assert order.state == PurchaseOrderState.RECEIVED
    assert order.transitions.count() == 3


def test_leak_5_a_purchase_order_carries_articles_and_quantities_only() -> None:
    fields = {f.name for f in PurchaseOrder._meta.get_fields()}
    assert not fields & {"patient", "customer_order", "address", "prescription"}


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"quantity": 2, "serial_numbers": ("X-1",)}, "serials"),
        ({"quantity": 2, "serial_numbers": ("X-1", "X-1")}, "serials"),
        ({"quantity": 1, "serial_numbers": ("X-1",), "gtin": "07340000000018"}, "gtin"),
        ({"quantity": 1, "serial_numbers": ("X-1",), "gtin": "4006381333931"}, "gtin"),
        ({"quantity": 0}, "quantity"),
    ],
)
def test_receipt_refusals_name_the_field_and_write_nothing(
    central: StockLocation, rollator: Article, store_worker: Any, line: dict[str, Any], field: str
) -> None:
    with pytest.raises(ReceiptRefused) as refused:
        goods_receipt_record(
            location_id=central.pk,
            by=store_worker,
            lines=[ReceiptLineInput(key="a", article_id=rollator.pk, **line)],
        )
    assert (refused.value.key, refused.value.field) == ("a", field)
    assert not Device.objects.exists()
    assert not StockLevel.objects.filter(physical__gt=0).exists()


def test_an_already_registered_serial_is_refused(
    central: StockLocation, rollator: Article, store_worker: Any
) -> None:
    first = ReceiptLineInput(key="a", article_id=rollator.pk, quantity=1, serial_numbers=("S",))
    goods_receipt_record(location_id=central.pk, by=store_worker, lines=[first])
    with translation.override("en"), pytest.raises(ReceiptRefused, match="already registered"):
        goods_receipt_record(location_id=central.pk, by=store_worker, lines=[first])
    assert StockLevel.objects.get(article=rollator).physical == 1


def test_the_proposal_list_groups_by_supplier_in_one_query(
    central: StockLocation, rollator: Article, pads: Article, django_assert_num_queries: Any
) -> None:
    from logistics.selectors.stock import purchase_proposals

    for article in (rollator, pads):
        stock_reorder_set(
            article_id=article.pk, location_id=central.pk, reorder_point=5, reorder_quantity=10
        )
    with django_assert_num_queries(1):
        groups = purchase_proposals(location_id=central.pk)
    assert sorted(p.quantity for g in groups for p in g.proposals) == [10, 10]
