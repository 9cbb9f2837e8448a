"""PRESC-9, DEVICE-4: the start page's "Pickups and losses" section: the pickup queues and the
loss cases to decide, with their counts, in a pinned number of queries; none for a prescriber."""

from __future__ import annotations

import pytest
from django.utils import translation

from logistics.services.losses import loss_device_report
from logistics.services.pickups import pickup_order_create
from logistics.start_sections import _pickups
from tests.logistics.devices_helpers import lent

pytestmark = pytest.mark.django_db


def test_presc_9_device_4_start_section_counts_pickups_and_losses(
    store_worker,
    customer_service,
    rx,
    ordinary,
    hidden,
    rollator,
    central,
    django_assert_num_queries,
) -> None:
    held = lent(rx, ordinary, rollator, central)
    pickup_order_create(patient_id=ordinary.pk, device_ids=[held.pk], channel="prescriber", by=rx)
    lost = lent(rx, hidden, rollator, central, serial_number="START-LOST")
    loss_device_report(device_id=lost.pk, unit_id=rx.staff_profile.unit_id, by=rx)
    _pickups(store_worker)  # the role's permissions read once
    # The pickup queues' counts in one query, the loss cases' in one.
    with django_assert_num_queries(2):
        items = _pickups(store_worker)
    assert items is not None
    with translation.override("en"):
        counts = {str(item.label): item.count for item in items}
    assert counts["Pickups with no route yet"] == 1
    assert counts["Pickups on a route"] == 0
    assert counts["Loss cases to decide"] == 1
    # Customer service: the loss cases only; a prescriber: nothing.
    service_items = _pickups(customer_service)
    assert service_items is not None
    with translation.override("en"):
        assert [str(item.label) for item in service_items] == ["Loss cases to decide"]
    assert _pickups(rx) is None
