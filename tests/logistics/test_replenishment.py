"""LOG-2: a unit orders replenishment of its buffer store; delivered lines go into it once."""

from __future__ import annotations

from typing import Any

import pytest

from logistics.models import (
    CustomerOrderLine,
    CustomerOrderTransition,
    LineState,
    LocationKind,
    OrderKind,
    StockLevel,
    StockLocation,
)
from logistics.services.errors import LogisticsError
from logistics.services.replenishment import (
    buffer_store_for_user,
    replenishment_order,
    replenishment_received,
)
from prescriptions.models import Article
from tests.factories import UnitFactory, UserFactory
from tests.logistics.factories import StockLocationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def buffer(rx: Any, central: StockLocation) -> StockLocation:
    unit = rx.staff_profile.unit
    return StockLocationFactory(
        code="buffer-a", name="Förrådet", kind=LocationKind.BUFFER, unit=unit
    )


def test_log_2_a_unit_member_orders_replenishment_of_its_buffer_store(
    rx: Any, buffer: StockLocation, central: StockLocation, rollator: Article, pads: Article
) -> None:
    order = replenishment_order(
        user=rx,
        location_code=buffer.code,
        lines=[(rollator.article_number, 2), (pads.article_number, 5)],
    )
    assert order.kind == OrderKind.REPLENISHMENT
    assert order.number.startswith("L-")
    assert (order.to_location, order.from_location) == (buffer, central)
    assert order.delivery_unit_id == buffer.unit_id
    assert order.delivery_contact == rx
    assert order.patient_id is None
    lines = list(order.lines.order_by("position"))
    # A serial-numbered article is one line per device.
    assert [(line.article_id, line.quantity) for line in lines] == [
        (rollator.pk, 1),
        (rollator.pk, 1),
        (pads.pk, 5),
    ]
    assert all(line.state == LineState.RECEIVED for line in lines)
    assert order.promised_on == max(line.promised_on for line in lines)
    assert CustomerOrderTransition.objects.filter(order=order).count() == 1


def test_log_2_another_units_buffer_store_and_other_roles_are_refused(
    rx: Any, buffer: StockLocation, pads: Article, store_worker: Any
) -> None:
    other = StockLocationFactory(
        code="buffer-b", name="Annat", kind=LocationKind.BUFFER, unit=UnitFactory()
    )
    assert buffer_store_for_user(rx, other.code) is None
    assert buffer_store_for_user(store_worker, buffer.code) is None
    assert buffer_store_for_user(rx, "missing") is None
    with pytest.raises(LogisticsError):
        replenishment_order(user=rx, location_code=other.code, lines=[(pads.article_number, 1)])
    manager = UserFactory(username="chef", role="unit_manager")
    assert buffer_store_for_user(manager, buffer.code) is None  # not a member of the unit


def test_log_2_delivered_lines_go_into_the_buffer_store_once(
    rx: Any, buffer: StockLocation, pads: Article
) -> None:
    order = replenishment_order(
        user=rx, location_code=buffer.code, lines=[(pads.article_number, 4)]
    )
    assert replenishment_received(order_id=order.pk, by=None) == 0
    CustomerOrderLine.objects.filter(order=order).update(
        state=LineState.DELIVERED, delivered_on=order.promised_on
    )
    assert replenishment_received(order_id=order.pk, by=None) == 4
    assert replenishment_received(order_id=order.pk, by=None) == 0
    assert StockLevel.objects.get(article=pads, location=buffer).physical == 4


def test_log_2_open_replenishments_are_listed_apart_from_customer_orders(
    rx: Any, buffer: StockLocation, pads: Article, django_assert_num_queries: Any
) -> None:
    from logistics.selectors.stock import open_replenishments_for_units
    from logistics.services.replenishment import user_unit_ids

    for _ in range(3):
        replenishment_order(user=rx, location_code=buffer.code, lines=[(pads.article_number, 1)])
    units = user_unit_ids(rx)
    with django_assert_num_queries(3):
        orders = list(open_replenishments_for_units(unit_ids=units))
        assert [len(order.lines.all()) for order in orders] == [1, 1, 1]
    assert all(order.kind == OrderKind.REPLENISHMENT for order in orders)


def test_log_2_the_units_page_lists_open_replenishments_and_orders_one(
    client: Any, rx: Any, buffer: StockLocation, pads: Article, django_assert_max_num_queries: Any
) -> None:
    from tests.personas import logged_in

    logged_in(client, rx)
    for _ in range(3):
        replenishment_order(user=rx, location_code=buffer.code, lines=[(pads.article_number, 1)])
    with django_assert_max_num_queries(14):
        page = client.get("/logistics/replenishments/")
    assert page.status_code == 200
    assert page.content.decode().count("L-") >= 3
    # A wrong article keeps what was typed.
    typed = {"store": buffer.code, "article_1": "NOPE-1", "quantity_1": "2"}
    refused = client.post("/logistics/replenishments/", typed)
    assert refused.status_code == 200
    assert 'value="NOPE-1"' in refused.content.decode()
    done = client.post(
        "/logistics/replenishments/",
        {"store": buffer.code, "article_1": pads.article_number, "quantity_1": "2"},
    )
    assert done.status_code == 302


def test_log_2_the_replenishment_page_is_denied_to_other_roles(
    client: Any, store_worker: Any
) -> None:
    from tests.personas import logged_in

    logged_in(client, store_worker)
    assert client.get("/logistics/replenishments/").status_code == 403
