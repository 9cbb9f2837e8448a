"""Issue 11 (PRESC-9, PRESC-10, DEVICE-5): prescribers see a patient's devices with their open
pickups, work orders and the safety notices naming them, on the patient page's devices section,
in a number of queries that does not grow with the patient's devices."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from logistics.models import Device, NoticeAction, SafetyNotice, WorkOrderKind
from logistics.selectors.devices import devices_held_by_patient
from logistics.services.recalls import NoticeArticleInput, notice_create, notice_publish
from logistics.services.workorders import work_order_cancel, work_order_create
from patients.models import Patient
from tests.factories import UserFactory
from tests.logistics.devices_helpers import lent
from tests.personas import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


def _notice(by: Any, article_number: str) -> SafetyNotice:
    notice = notice_create(
        by=by,
        title="Bromsen kan lossna",
        description="Kontrollera bromsvajern.",
        action=NoticeAction.RETROFIT,
        articles=[NoticeArticleInput(article_number)],
    )
    notice_publish(notice_id=notice.pk, by=by)
    notice.refresh_from_db()
    return notice


def _page_queries(client: Client, patient: Patient) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/patients/{patient.reference}/")
    assert response.status_code == 200
    return len(queries), response.content.decode()


def _section(html: str) -> str:
    return html[html.index("Devices held by the patient") :]


def test_presc_9_device_5_the_patient_page_shows_each_devices_work_orders_and_notices(
    client: Client, rx, store_worker, ordinary, rollator, central
) -> None:
    first = lent(rx, ordinary, rollator, central)
    second = lent(rx, ordinary, rollator, central)
    repair = work_order_create(kind=WorkOrderKind.REPAIR, by=rx, device_id=first.pk)
    cancelled = work_order_create(kind=WorkOrderKind.INSTALLATION, by=rx, device_id=second.pk)
    work_order_cancel(work_order_id=cancelled.pk, reason="Fel hjälpmedel.", by=rx)
    notice = _notice(store_worker, rollator.article_number)

    logged_in(client, rx)
    _page_queries(client, ordinary)
    before, html = _page_queries(client, ordinary)
    section = _section(html)
    # The prescriber registered the repair: its number opens the work order's page.
    assert f'href="/logistics/work-orders/{repair.pk}/">{repair.number}</a>: repair' in section
    # Done and cancelled ones are not open work.
    assert cancelled.number not in section
    assert section.count(f"Safety notice {notice.number}: retrofit") == 2
    held = {device.device_id: device for device in devices_held_by_patient(ordinary.pk)}
    assert repair.number in {order.number for order in held[first.pk].work_orders}
    assert cancelled.number not in {order.number for order in held[second.pk].work_orders}
    assert [outreach.notice.number for outreach in held[second.pk].notices] == [notice.number]

    # Two more devices, each with a work order, and a second notice naming all four: the
    # section costs the same statements.
    more = [lent(rx, ordinary, rollator, central) for _ in range(2)]
    for device in more:
        work_order_create(kind=WorkOrderKind.REPAIR, by=rx, device_id=device.pk)
    second_notice = _notice(store_worker, rollator.article_number)
    after, html = _page_queries(client, ordinary)
    assert after == before
    section = _section(html)
    assert section.count(f"Safety notice {second_notice.number}: retrofit") == 4
    for device in more:
        assert device.serial_number in section


def test_presc_9_the_devices_and_their_lists_are_one_query(
    rx, store_worker, ordinary, rollator, central, django_assert_num_queries
) -> None:
    devices: list[Device] = [lent(rx, ordinary, rollator, central) for _ in range(3)]
    for device in devices:
        work_order_create(kind=WorkOrderKind.REPAIR, by=rx, device_id=device.pk)
    _notice(store_worker, rollator.article_number)
    with django_assert_num_queries(1):
        held = devices_held_by_patient(ordinary.pk)
    # Each device: its own repair and the notice's outreach work order.
    assert [len(device.work_orders) for device in held] == [2, 2, 2]
    assert [len(device.notices) for device in held] == [1, 1, 1]


def test_presc_10_a_prescriber_reads_other_authors_work_order_numbers_without_a_link(
    client: Client, rx, ordinary, rollator, central
) -> None:
    """A work order page opens to its author and contact, technicians and customer service:
    another prescriber reads the number only."""
    device = lent(rx, ordinary, rollator, central)
    technician = UserFactory(username="tekniker", role="technician")
    repair = work_order_create(kind=WorkOrderKind.SERVICE, by=technician, device_id=device.pk)
    other = UserFactory(username="annan", role="prescriber")
    logged_in(client, other)
    section = _section(_page_queries(client, ordinary)[1])
    assert repair.author_id != other.pk
    assert repair.prescriber_id != other.pk
    assert repair.number in section
    assert f"/logistics/work-orders/{repair.pk}/" not in section
