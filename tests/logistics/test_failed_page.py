"""The failed deliveries page with failed deliveries on it (the leak crawl found it answering
500: the template took the latest attempt with ``|last``, which cannot index a queryset): each
package with its latest reason and note and the next attempt, a protected patient's by the order
number only (LEAK-5), in a fixed number of queries."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from logistics.calendar import next_working_day
from logistics.models import FailureReason, PickItem
from logistics.services.delivery import package_dispatch, package_fail, package_pack
from logistics.services.picking import item_pick, waves_create
from tests.logistics.conftest import approved
from tests.logistics.factories import DeviceFactory
from tests.logistics.picking_setup import allocated_order, area_all_week, stocked
from tests.personas import logged_in
from tests.prescriptions.leaks import SECRET_ADDRESS, SECRET_NAME

pytestmark = pytest.mark.django_db


def _failed(orders, store, by, today: datetime.date) -> None:
    day = next_working_day(today)
    wave = waves_create(store_id=store.pk, delivery_on=day, by=by, today=today).waves[0]
    for item in PickItem.objects.filter(wave=wave).select_related("line__article"):
        serial = DeviceFactory(article=item.line.article, location=store).serial_number
        item_pick(wave_id=wave.pk, item_id=item.pk, by=by, serial=serial)
    for order in orders:
        package = package_pack(order_id=order.pk, by=by, today=day)
        package_dispatch(package_id=package.pk, by=by)
        package_fail(
            package_id=package.pk, reason=FailureReason.NOBODY_HOME, note="", by=by, today=day
        )
        package_dispatch(package_id=package.pk, by=by)
        package_fail(
            package_id=package.pk,
            reason=FailureReason.OTHER,
            note="Porten låst",
            by=by,
            today=day + datetime.timedelta(days=1),
        )


def test_leak_5_failed_deliveries_list_the_latest_attempt_by_order_number(
    client, rx, ordinary, hidden, central, rollator, store_worker, django_assert_num_queries
):
    from django.utils import timezone

    area_all_week("Skåne", "00000", "99999")
    stocked(rollator, central, 2)
    orders = [
        allocated_order(approved(rx, ordinary, rollator), central, rollator),
        allocated_order(
            approved(rx, hidden, rollator, stepped_up=True), central, rollator, protected=True
        ),
    ]
    _failed(orders, central, store_worker, timezone.localdate())
    logged_in(client, store_worker)
    client.get(reverse("logistics:failed"))  # the session and permissions read once
    with django_assert_num_queries(6):
        page = client.get(reverse("logistics:failed"))
    assert page.status_code == 200
    text = page.content.decode()
    for order in orders:
        assert order.number in text
    assert text.count("Porten låst") == 2
    assert str(FailureReason(FailureReason.NOBODY_HOME).label) not in text
    for secret in (*SECRET_NAME, SECRET_ADDRESS):
        assert secret not in text
