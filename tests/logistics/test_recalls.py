"""Safety notices and recalls (DEVICE-2, LOG-3, LEAK-5): publishing finds every holder and
place of the notice's devices in one statement, reaches patients through the prescriber of the
order that lent the device, blocks devices in stores from delivery (picking, allocation and the
database), and closing the campaign is a state move with history."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from logistics.models import (
    Device,
    DeviceStatus,
    HolderKind,
    NoticeAction,
    NoticeDevice,
    NoticeState,
    NoticeWeek,
    OutreachState,
    PickItem,
    SafetyNoticeTransition,
    WorkOrder,
    WorkOrderTransition,
)
from logistics.services.errors import LogisticsError, StateNotAllowed
from logistics.services.orders import orders_allocate
from logistics.services.picking import item_pick, waves_create
from logistics.services.recalls import (
    NoticeArticleInput,
    notice_close,
    notice_create,
    notice_publish,
    outreach_record,
)
from logistics.services.state import device_move
from logistics.services.workorders import work_order_assign, work_order_finish, work_order_start
from patients.models import Notification, PatientIdentity, Unit
from tests.factories import UserFactory
from tests.logistics.conftest import approved
from tests.logistics.devices_helpers import lent
from tests.logistics.factories import DeviceFactory
from tests.logistics.picking_setup import allocated_order, area_all_week, stocked
from tests.prescriptions.conftest import article

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 12, 7)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _notice(by, *articles: NoticeArticleInput, action: str = NoticeAction.INSPECT):
    return notice_create(
        by=by,
        title="Bromsen kan lossna",
        description="Kontrollera bromsvajern.",
        action=action,
        articles=list(articles),
    )


@pytest.fixture
def holders(rx, ordinary, protected_patient, rollator, central):
    """The rollator: lent to an ordinary and a protected patient (both by ``rx``), in the
    store, at a unit, and scrapped; and another article's device."""
    devices = {
        "ordinary": lent(rx, ordinary, rollator, central),
        "protected": lent(rx, protected_patient, rollator, central),
        "store": DeviceFactory(article=rollator, location=central),
        "scrapped": DeviceFactory(article=rollator, location=central),
        "other": DeviceFactory(article=article("4711", serial_numbered=True), location=central),
    }
    unit = Unit.objects.order_by("pk").first()
    assert unit is not None
    at_unit = DeviceFactory(article=rollator, location=central)
    device_move(
        device=at_unit,
        to_state=DeviceStatus.IN_USE_AT_UNIT,
        location=None,
        holder_kind=HolderKind.UNIT,
        holder_unit=unit,
    )
    devices["unit"] = at_unit
    device_move(device=devices["scrapped"], to_state=DeviceStatus.IN_WORKSHOP)
    device_move(device=devices["scrapped"], to_state=DeviceStatus.SCRAPPED, location=None)
    return devices


def test_device_2_publishing_finds_every_holder_and_place(holders, store_worker, rx, rollator):
    notice = _notice(store_worker, NoticeArticleInput(rollator.article_number))
    assert notice.state == NoticeState.DRAFT
    assert not NoticeDevice.objects.exists()
    result = notice_publish(notice_id=notice.pk, by=store_worker)
    rows = {row.device_id: row for row in NoticeDevice.objects.filter(notice=notice)}
    expected = {holders[key].pk for key in ("ordinary", "protected", "store", "unit")}
    assert set(rows) == expected
    assert (result.found, result.patients, result.protected, result.blocked) == (4, 2, 1, 1)
    ordinary, protected = rows[holders["ordinary"].pk], rows[holders["protected"].pk]
    for row in (ordinary, protected):
        assert row.holder_kind == HolderKind.PATIENT
        assert row.prescriber_id == rx.pk
        assert row.order_number
        assert row.state == OutreachState.FOUND
        assert not row.blocked
    assert protected.protected
    assert not ordinary.protected
    assert rows[holders["store"].pk].blocked
    assert rows[holders["store"].pk].location_id == holders["store"].location_id
    assert rows[holders["unit"].pk].holder_unit_id is not None
    assert SafetyNoticeTransition.objects.filter(
        notice=notice, to_state=NoticeState.PUBLISHED
    ).exists()


def test_leak_5_the_prescriber_is_told_by_notice_number_and_count_only(
    holders, store_worker, rx, rollator, protected_patient
):
    notice = _notice(store_worker, NoticeArticleInput(rollator.article_number))
    notice_publish(notice_id=notice.pk, by=store_worker)
    told = Notification.objects.get(user=rx)
    assert notice.number in told.subject
    assert "2" in told.subject
    identity = PatientIdentity.objects.get(patient=protected_patient)
    for text in (told.subject, told.body):
        assert identity.surname not in text
        assert identity.personal_identity_number not in text
        assert str(protected_patient.birth_year) not in text


def test_device_2_a_serial_range_limits_the_devices(store_worker, rollator, central):
    inside = DeviceFactory(article=rollator, location=central, serial_number="RL-0100")
    DeviceFactory(article=rollator, location=central, serial_number="RL-0300")
    notice = _notice(
        store_worker, NoticeArticleInput(rollator.article_number, "RL-0050", "RL-0200")
    )
    assert notice_publish(notice_id=notice.pk, by=store_worker).found == 1
    assert list(NoticeDevice.objects.values_list("device_id", flat=True)) == [inside.pk]


def test_device_2_an_unknown_article_or_half_a_range_is_refused(store_worker, rollator):
    with pytest.raises(LogisticsError, match="not an article number"):
        _notice(store_worker, NoticeArticleInput("NO-SUCH"))
    with pytest.raises(LogisticsError, match="first and the last"):
        _notice(store_worker, NoticeArticleInput(rollator.article_number, "A", ""))


def test_device_2_publishing_is_set_based_whatever_the_devices(
    store_worker, rollator, central, rx, ordinary
):
    """The same statements for 4 devices as for 17: no statement per device or holder."""
    lent(rx, ordinary, rollator, central)
    for _n in range(3):
        DeviceFactory(article=rollator, location=central)
    few_notice = _notice(store_worker, NoticeArticleInput(rollator.article_number))
    with CaptureQueriesContext(connection) as few:
        notice_publish(notice_id=few_notice.pk, by=store_worker)
    for _n in range(12):
        DeviceFactory(article=rollator, location=central)
    lent(rx, ordinary, rollator, central)
    many_notice = _notice(store_worker, NoticeArticleInput(rollator.article_number))
    with CaptureQueriesContext(connection) as many:
        notice_publish(notice_id=many_notice.pk, by=store_worker)
    assert len(many.captured_queries) == len(few.captured_queries)
    assert NoticeDevice.objects.filter(notice=many_notice).count() == 17


def test_device_2_the_database_refuses_to_move_a_blocked_device_out_of_the_store(
    store_worker, rollator, central
):
    device = DeviceFactory(article=rollator, location=central)
    notice = _notice(store_worker, NoticeArticleInput(rollator.article_number))
    notice_publish(notice_id=notice.pk, by=store_worker)
    with pytest.raises(IntegrityError, match="DEVICE-2"), transaction.atomic():
        Device.objects.filter(pk=device.pk).update(status=DeviceStatus.ALLOCATED)
    # Into the workshop for the notice's work is allowed.
    device_move(device=device, to_state=DeviceStatus.IN_WORKSHOP)


def test_device_2_picking_refuses_a_blocked_device_and_allocation_does_not_count_it(
    rx, ordinary, central, rollator, store_worker
):
    area_all_week()
    stocked(rollator, central, 2)
    blocked = DeviceFactory(article=rollator, location=central)
    free = DeviceFactory(article=rollator, location=central)
    notice = _notice(
        store_worker,
        NoticeArticleInput(rollator.article_number, blocked.serial_number, blocked.serial_number),
    )
    notice_publish(notice_id=notice.pk, by=store_worker)
    order = allocated_order(approved(rx, ordinary, rollator), central, rollator)
    wave = waves_create(
        store_id=central.pk, delivery_on=MONDAY, by=store_worker, today=MONDAY
    ).waves[0]
    item = PickItem.objects.get(wave=wave, line__order=order)
    with pytest.raises(
        LogisticsError, match=f"blocked from delivery by safety notice {notice.number}"
    ):
        item_pick(wave_id=wave.pk, item_id=item.pk, by=store_worker, serial=blocked.serial_number)
    item_pick(wave_id=wave.pk, item_id=item.pk, by=store_worker, serial=free.serial_number)
    # Two on the shelf, one of them blocked, one picked: a new order for the rollator waits.
    second = approved(rx, ordinary, rollator)
    from logistics.services.orders import order_create_from_release

    waiting = order_create_from_release(prescription_id=second.pk)
    assert waiting is not None
    assert orders_allocate(order_ids=[waiting.pk]).backordered == 1


def test_device_2_closing_is_a_state_move_with_history_and_lifts_the_block(
    store_worker, rollator, central
):
    DeviceFactory(article=rollator, location=central)
    notice = _notice(store_worker, NoticeArticleInput(rollator.article_number))
    notice_publish(notice_id=notice.pk, by=store_worker)
    assert NoticeDevice.objects.filter(blocked=True).count() == 1
    notice_close(notice_id=notice.pk, by=store_worker, note="Tillverkaren har stängt ärendet")
    notice.refresh_from_db()
    assert notice.state == NoticeState.CLOSED
    assert notice.closed_at is not None
    assert list(
        SafetyNoticeTransition.objects.filter(notice=notice).values_list("to_state", flat=True)
    ) == [NoticeState.DRAFT, NoticeState.PUBLISHED, NoticeState.CLOSED]
    assert not NoticeDevice.objects.filter(blocked=True).exists()
    with pytest.raises(StateNotAllowed):
        notice_close(notice_id=notice.pk, by=store_worker)
    with pytest.raises(StateNotAllowed):
        notice_publish(notice_id=notice.pk, by=store_worker)


def test_device_2_outreach_steps_are_dated_and_done_lifts_the_block(
    store_worker, rollator, central
):
    DeviceFactory(article=rollator, location=central)
    notice = _notice(store_worker, NoticeArticleInput(rollator.article_number))
    notice_publish(notice_id=notice.pk, by=store_worker)
    row = NoticeDevice.objects.get()
    outreach_record(notice_id=notice.pk, row_id=row.pk, step="done", by=store_worker)
    row.refresh_from_db()
    assert row.state == OutreachState.DONE
    assert not row.blocked
    assert row.contacted_at is not None
    assert row.done_at is not None
    with pytest.raises(StateNotAllowed):
        outreach_record(notice_id=notice.pk, row_id=row.pk, step="contacted", by=store_worker)


def test_log_3_a_protected_holder_is_reached_through_the_prescriber_only(
    holders, store_worker, rx, rollator
):
    """LOG-3, LEAK-5: the protected patient's row names the order and the prescriber who lent
    the device; another prescriber cannot record contact for it."""
    notice = _notice(store_worker, NoticeArticleInput(rollator.article_number))
    notice_publish(notice_id=notice.pk, by=store_worker)
    row = NoticeDevice.objects.get(device=holders["protected"])
    assert row.protected
    assert row.prescriber_id == rx.pk
    assert row.order_number
    other = UserFactory(username="annan-rx", role="prescriber")
    with pytest.raises(NoticeDevice.DoesNotExist):
        outreach_record(
            notice_id=notice.pk,
            row_id=row.pk,
            step="contacted",
            by=other,
            prescriber_only=True,
        )
    outreach_record(
        notice_id=notice.pk, row_id=row.pk, step="contacted", by=rx, prescriber_only=True
    )
    assert NoticeDevice.objects.get(pk=row.pk).state == OutreachState.CONTACTED


def test_log_3_each_held_device_gets_a_work_order_of_the_regions_own_workshop(
    holders, store_worker, rx, rollator, central
):
    """LOG-3: the outreach's work orders are the region's own (no supplier), at the central
    store's workshop, one per device a patient or a unit holds; none for a device in a store
    (it is blocked instead). The order's text names the notice, never the patient."""
    notice = _notice(store_worker, NoticeArticleInput(rollator.article_number))
    result = notice_publish(notice_id=notice.pk, by=store_worker)
    assert result.work_orders == 3
    orders = WorkOrder.objects.filter(notice_device__notice=notice)
    assert orders.count() == 3
    assert set(orders.values_list("device_id", flat=True)) == {
        holders[key].pk for key in ("ordinary", "protected", "unit")
    }
    assert not orders.filter(supplier__isnull=False).exists()
    assert set(orders.values_list("workshop_id", flat=True)) == {central.pk}
    protected_order = orders.get(device=holders["protected"])
    assert protected_order.prescriber_id == rx.pk
    assert protected_order.patient_id == holders["protected"].holder_patient_id
    assert notice.number in protected_order.description
    assert WorkOrderTransition.objects.filter(work_order__in=orders).count() == 3
    # A finished work order marks the device's outreach done (the database's trigger).
    technician = UserFactory(username="tekniker", role="technician")
    work_order_assign(work_order_id=protected_order.pk, technician=technician, by=store_worker)
    work_order_start(work_order_id=protected_order.pk, by=technician)
    work_order_finish(work_order_id=protected_order.pk, result="Bromsen bytt", by=technician)
    row = NoticeDevice.objects.get(work_order=protected_order)
    assert row.state == OutreachState.DONE
    assert row.done_at is not None
    # The campaign's reach counts it, in all and in this week (the database's trigger).
    notice.refresh_from_db()
    assert (notice.found, notice.contacted, notice.done) == (4, 1, 1)
    week = NoticeWeek.objects.get(notice=notice)
    assert (week.contacted, week.done) == (1, 1)
