"""PRESC-9 pickup orders, DEVICE-4 the loss process (BILL-4) and DEVICE-3 reconditioning, on
the services against real Postgres; the working-day arithmetic around Easter, midsummer and
Christmas."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation

from logistics.calendar import is_working_day
from logistics.models import (
    DeliveryArea,
    DeviceEvent,
    DeviceStatus,
    HolderKind,
    LossCase,
    LossState,
    PickupLine,
    PickupLineState,
    PickupLineTransition,
    PickupOrder,
    PickupState,
    RecirculationPolicy,
    ReconditioningOutcome,
)
from logistics.selectors.pickups import PickupQueue, losses_per_unit, pickup_queue_counts
from logistics.services.errors import LogisticsError
from logistics.services.losses import (
    loss_case_decide,
    loss_case_found,
    loss_device_report,
)
from logistics.services.pickups import (
    collect_by,
    pickup_line_collect,
    pickup_line_missing,
    pickup_order_create,
    rent_stops_on,
)
from logistics.services.reconditioning import reconditioning_decide
from logistics.services.state import device_move
from patients.models import PatientIdentity
from prescriptions.models import ArticleKind
from tests.logistics.devices_helpers import lent
from tests.logistics.factories import DeviceFactory
from tests.prescriptions.conftest import accessory

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """The refusals are matched in English, the language these tests read."""
    with translation.override("en"):
        yield


@pytest.fixture
def route() -> DeliveryArea:
    """Tuesdays and Thursdays, for every postal code."""
    return DeliveryArea.objects.create(
        name="Hela länet", postal_from="00000", postal_to="99999", weekdays=[1, 3]
    )


# Working days: Easter, midsummer, Christmas and New Year.


@pytest.mark.parametrize(
    ("registered", "stops", "due"),
    [
        # Maundy Thursday: Good Friday and Easter Monday are days off.
        (D(2027, 3, 25), D(2027, 4, 1), D(2027, 4, 7)),
        # The Thursday before midsummer eve (a day off) 2026.
        (D(2026, 6, 18), D(2026, 6, 24), D(2026, 6, 30)),
        # Before Christmas: Christmas Eve, Christmas Day, Boxing Day are off.
        (D(2026, 12, 23), D(2026, 12, 30), D(2027, 1, 8)),
        # Before New Year: New Year's Eve, New Year's Day and Epiphany are off.
        (D(2026, 12, 30), D(2027, 1, 7), D(2027, 1, 13)),
    ],
)
def test_presc_9_rent_stops_after_3_and_pickup_within_7_working_days_around_holidays(
    registered: D, stops: D, due: D
) -> None:
    assert rent_stops_on(registered) == stops
    assert collect_by(registered) == due
    for day_off in (D(2027, 3, 26), D(2027, 3, 29), D(2026, 6, 19), D(2026, 12, 24), D(2027, 1, 6)):
        assert not is_working_day(day_off)


def test_presc_9_a_prescriber_registers_a_pickup_planned_on_the_route_with_rent_stop(
    rx, ordinary, rollator, central, route
) -> None:
    PatientIdentity.objects.filter(patient=ordinary).update(
        registered_address={"street2": "Storgatan 1", "postal_code": "21120", "city": "MALMÖ"}
    )
    device = lent(rx, ordinary, rollator, central)
    order = pickup_order_create(
        patient_id=ordinary.pk,
        device_ids=[device.pk],
        channel="prescriber",
        by=rx,
        today=D(2027, 3, 25),
    )
    assert order.state == PickupState.PLANNED
    assert not order.patient_protected
    assert order.area == route
    # The route's next day after registration: Tuesday 30 March (Easter Monday is off).
    assert order.planned_on == D(2027, 3, 30)
    assert order.due_on == D(2027, 4, 7)
    line = order.lines.get()
    assert line.rent_stops_on == D(2027, 4, 1)
    assert line.rent_restarted_on is None
    assert PickupLineTransition.objects.filter(line=line, to_state="to_collect").exists()
    assert order.transitions.filter(to_state=PickupState.PLANNED).exists()
    # Still with the patient until collected.
    device.refresh_from_db()
    assert device.status == DeviceStatus.ON_LOAN


def test_presc_9_a_collected_device_leaves_the_patient_with_a_history_row(
    rx, store_worker, ordinary, rollator, central, route
) -> None:
    device = lent(rx, ordinary, rollator, central)
    order = pickup_order_create(
        patient_id=ordinary.pk, device_ids=[device.pk], channel="prescriber", by=rx
    )
    line = order.lines.get()
    pickup_line_collect(line_id=line.pk, by=store_worker)
    device.refresh_from_db()
    assert device.status == DeviceStatus.IN_WORKSHOP
    assert device.holder_kind == HolderKind.STORE
    assert device.holder_patient_id is None
    event = DeviceEvent.objects.filter(device=device).latest("pk")
    assert event.from_state == DeviceStatus.ON_LOAN
    assert order.number in event.note
    order.refresh_from_db()
    assert order.state == PickupState.DONE
    with pytest.raises(LogisticsError):
        pickup_line_collect(line_id=line.pk, by=store_worker)


def test_presc_9_device_4_missing_at_pickup_cancels_the_line_restarts_rent_and_opens_a_loss_case(
    rx, store_worker, ordinary, rollator, central
) -> None:
    device = lent(rx, ordinary, rollator, central)
    order = pickup_order_create(
        patient_id=ordinary.pk,
        device_ids=[device.pk],
        channel="prescriber",
        by=rx,
        today=D(2026, 12, 23),
    )
    line = order.lines.get()
    pickup_line_missing(line_id=line.pk, by=store_worker, today=D(2027, 1, 4))
    line.refresh_from_db()
    assert line.state == PickupLineState.MISSING
    assert line.rent_restarted_on == line.rent_stops_on == D(2026, 12, 30)
    assert PickupLineTransition.objects.filter(line=line, to_state="missing").exists()
    device.refresh_from_db()
    assert device.status == DeviceStatus.LOST
    case = LossCase.objects.get(device=device)
    assert case.state == LossState.REPORTED
    assert case.pickup_line == line
    assert case.unit_id == order.unit_id
    order.refresh_from_db()
    assert order.state == PickupState.DONE


def test_device_4_a_device_reported_lost_cannot_be_put_on_a_pickup_order(
    rx, customer_service, ordinary, rollator, central
) -> None:
    device = lent(rx, ordinary, rollator, central)
    case = loss_device_report(device_id=device.pk, unit_id=rx.staff_profile.unit_id, by=rx)
    assert case.state == LossState.REPORTED
    with pytest.raises(LogisticsError, match="reported lost"):
        pickup_order_create(
            patient_id=ordinary.pk,
            device_ids=[device.pk],
            channel="customer_service",
            by=customer_service,
        )
    assert not PickupOrder.objects.exists()


def test_presc_9_a_device_is_on_one_waiting_pickup_at_a_time_and_must_be_the_patients(
    rx, ordinary, hidden, rollator, central
) -> None:
    device = lent(rx, ordinary, rollator, central)
    pickup_order_create(patient_id=ordinary.pk, device_ids=[device.pk], channel="prescriber", by=rx)
    with pytest.raises(LogisticsError, match="already on pickup order"):
        pickup_order_create(
            patient_id=ordinary.pk, device_ids=[device.pk], channel="prescriber", by=rx
        )
    with pytest.raises(LogisticsError, match="not lent to this patient"):
        pickup_order_create(
            patient_id=hidden.pk, device_ids=[device.pk], channel="prescriber", by=rx
        )
    # The database refuses a second waiting line too.
    order = PickupOrder.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        PickupLine.objects.create(order=order, device=device, rent_stops_on=D(2027, 1, 1))


def test_presc_9_log_3_a_protected_patients_pickup_is_at_the_unit_by_own_staff(
    rx, hidden, rollator, central
) -> None:
    unit = rx.staff_profile.unit.prescribing
    route = DeliveryArea.objects.create(
        name="Enhetens",
        postal_from=unit.delivery_postal_code.replace(" ", ""),
        postal_to=unit.delivery_postal_code.replace(" ", ""),
        weekdays=[0, 1, 2, 3, 4],
    )
    device = lent(rx, hidden, rollator, central)
    order = pickup_order_create(
        patient_id=hidden.pk, device_ids=[device.pk], channel="prescriber", by=rx
    )
    assert order.patient_protected
    assert order.unit_id == unit.pk
    assert order.contact_id == rx.pk
    # The route is the unit's (its postal code), never the patient's address (21120).
    assert order.area == route
    with pytest.raises(IntegrityError), transaction.atomic():
        PickupOrder.objects.filter(pk=order.pk).update(subcontractor=True)


def test_presc_9_customer_service_registers_for_a_call_with_the_prescriber_as_contact(
    rx, customer_service, ordinary, rollator, central
) -> None:
    device = lent(rx, ordinary, rollator, central)
    order = pickup_order_create(
        patient_id=ordinary.pk,
        device_ids=[device.pk],
        channel="customer_service",
        by=customer_service,
    )
    assert order.contact_id == rx.pk
    assert order.created_by_id == customer_service.pk
    # No route serves the patient's postal code: the order waits to be planned.
    assert order.area is None
    assert order.planned_on is None
    counts = pickup_queue_counts(day=order.registered_on)
    assert counts[PickupQueue.TO_PLAN] == 1
    assert (
        pickup_queue_counts(day=order.due_on + datetime.timedelta(days=1))[PickupQueue.OVERDUE] == 1
    )


# DEVICE-4 and BILL-4: the decision, and found again within three months.


def _lost(rx, patient, article, central, **kwargs):
    device = lent(rx, patient, article, central, **kwargs)
    return loss_device_report(device_id=device.pk, unit_id=rx.staff_profile.unit_id, by=rx)


def test_device_4_bill_4_a_main_device_is_debited_its_residual_value_at_least_20_percent(
    rx, ordinary, rollator, central
) -> None:
    rollator.lifespan_years = 5
    rollator.save()
    case = _lost(rx, ordinary, rollator, central, received_on=D(2026, 1, 15))
    # 12 of 60 months gone: 80 % of 2 900 left.
    case = loss_case_decide(case_id=case.pk, by=rx, today=D(2027, 1, 20))
    assert case.state == LossState.DEBITED
    assert case.purchase_price_sek == Decimal("2900.00")
    assert case.residual_value_sek == Decimal("2320.00")
    assert case.debit_sek == Decimal("2320.00")
    assert case.decided_on == D(2027, 1, 20)
    assert case.unit_id == rx.staff_profile.unit_id


def test_device_4_bill_4_an_old_main_device_keeps_20_percent_and_under_1000_is_written_off(
    rx, ordinary, rollator, central
) -> None:
    rollator.lifespan_years = 2
    rollator.price_sek = Decimal("9000")
    rollator.save()
    case = _lost(rx, ordinary, rollator, central, received_on=D(2020, 1, 15))
    case = loss_case_decide(case_id=case.pk, by=rx, today=D(2027, 1, 20))
    assert case.residual_value_sek == Decimal("0.00")
    assert case.debit_sek == Decimal("1800.00")
    assert case.state == LossState.DEBITED
    cheap = accessory(rollator, "1500")
    cheap.serial_numbered = True
    cheap.save()
    # A device lost from the store (no patient): the same process.
    stray = DeviceFactory(article=cheap, location=central)
    small = loss_device_report(device_id=stray.pk, unit_id=rx.staff_profile.unit_id, by=rx)
    small = loss_case_decide(case_id=small.pk, by=rx)
    # An accessory: 50 % of 1 500 is under 1 000 SEK: nothing debited.
    assert small.state == LossState.WRITTEN_OFF
    assert small.debit_sek == Decimal("0.00")
    assert cheap.kind == ArticleKind.ACCESSORY


def test_device_4_bill_4_an_article_out_of_the_assortment_has_no_debitable_value(
    rx, ordinary, rollator, central
) -> None:
    lost = _lost(rx, ordinary, rollator, central)
    rollator.in_assortment = False
    rollator.price_sek = Decimal("50000")
    rollator.save()
    case = loss_case_decide(case_id=lost.pk, by=rx)
    assert case.state == LossState.WRITTEN_OFF
    assert case.debit_sek == Decimal("0.00")


def test_device_4_found_again_within_three_months_and_not_after(
    rx, store_worker, ordinary, hidden, rollator, central
) -> None:
    case = _lost(rx, ordinary, rollator, central)
    reported = case.reported_on
    case = loss_case_found(
        case_id=case.pk, by=store_worker, today=reported + datetime.timedelta(days=80)
    )
    assert case.state == LossState.FOUND
    case.device.refresh_from_db()
    assert case.device.status == DeviceStatus.IN_WORKSHOP
    late = _lost(rx, hidden, rollator, central, serial_number="LATE-1")
    with pytest.raises(LogisticsError, match="more than three months"):
        loss_case_found(
            case_id=late.pk, by=store_worker, today=reported + datetime.timedelta(days=100)
        )


def test_kpi_3_losses_per_care_unit_count_and_value(
    rx, ordinary, hidden, rollator, central
) -> None:
    first = _lost(rx, ordinary, rollator, central)
    loss_case_decide(case_id=first.pk, by=rx)
    _lost(rx, hidden, rollator, central, serial_number="KPI-2")
    rows = losses_per_unit(since=D(2000, 1, 1), until=D(2100, 1, 1))
    assert len(rows) == 1
    assert rows[0].unit_name == rx.staff_profile.unit.name
    assert rows[0].count == 2
    assert rows[0].debited_count == 1
    assert rows[0].value_sek == LossCase.objects.get(pk=first.pk).debit_sek


# DEVICE-3: reconditioning by the article's recirculation policy; reissues counted.


def _in_workshop(rx, patient, article, central, **kwargs):
    device = lent(rx, patient, article, central, **kwargs)
    order = pickup_order_create(
        patient_id=patient.pk, device_ids=[device.pk], channel="prescriber", by=rx
    )
    pickup_line_collect(line_id=order.lines.get().pk, by=rx)
    device.refresh_from_db()
    return device


def test_device_3_crutches_younger_than_30_months_are_reconditioned_and_back_in_stock(
    rx, store_worker, ordinary, rollator, central
) -> None:
    RecirculationPolicy.objects.create(article=rollator, max_age_months=30)
    device = _in_workshop(rx, ordinary, rollator, central, received_on=D(2026, 1, 15))
    decision = reconditioning_decide(
        device_id=device.pk,
        inspection_passed=True,
        store_id=central.pk,
        by=store_worker,
        today=D(2028, 7, 14),
    )
    assert decision.outcome == ReconditioningOutcome.REISSUE
    assert decision.age_months == 29
    device.refresh_from_db()
    assert device.status == DeviceStatus.IN_STOCK
    assert device.location == central
    assert device.awaiting_reissue


def test_device_3_older_than_the_policy_or_failed_inspection_is_scrapped(
    rx, store_worker, ordinary, hidden, rollator, central
) -> None:
    RecirculationPolicy.objects.create(product_area=rollator.product_area, max_age_months=30)
    old = _in_workshop(rx, ordinary, rollator, central, received_on=D(2026, 1, 15))
    decision = reconditioning_decide(
        device_id=old.pk,
        inspection_passed=True,
        store_id=central.pk,
        by=store_worker,
        today=D(2028, 8, 16),
    )
    assert decision.outcome == ReconditioningOutcome.SCRAP
    assert decision.age_months == 31
    old.refresh_from_db()
    assert old.status == DeviceStatus.SCRAPPED
    broken = _in_workshop(rx, hidden, rollator, central, serial_number="BROKEN-1")
    decision = reconditioning_decide(
        device_id=broken.pk, inspection_passed=False, store_id=None, by=store_worker
    )
    assert decision.outcome == ReconditioningOutcome.SCRAP
    # A device not in the workshop is not reconditioned.
    with pytest.raises(LogisticsError, match="not in the workshop"):
        reconditioning_decide(
            device_id=broken.pk, inspection_passed=True, store_id=central.pk, by=store_worker
        )


def test_device_3_the_policy_caps_times_reissued_and_a_reissue_is_counted_when_lent_again(
    rx, store_worker, ordinary, rollator, central
) -> None:
    from logistics.models import CustomerOrderLine
    from logistics.services.delivery import _hand_over

    RecirculationPolicy.objects.create(article=rollator, max_age_months=120, max_times_reissued=1)
    device = _in_workshop(rx, ordinary, rollator, central)
    reconditioning_decide(
        device_id=device.pk, inspection_passed=True, store_id=central.pk, by=store_worker
    )
    device.refresh_from_db()
    assert device.times_reissued == 0
    # Lent again: through the delivery's hand-over, which counts the reissue.
    line = CustomerOrderLine.objects.filter(device=device).select_related("order").get()
    device_move(device=device, to_state=DeviceStatus.ALLOCATED)
    device_move(device=device, to_state=DeviceStatus.IN_TRANSIT, location=None)
    line.device = device
    with transaction.atomic():
        _hand_over(line, line.order, store_worker)
    device.refresh_from_db()
    assert device.times_reissued == 1
    assert not device.awaiting_reissue
    # Back again: reissued once, the policy's limit: scrapped.
    order = pickup_order_create(
        patient_id=ordinary.pk, device_ids=[device.pk], channel="prescriber", by=rx
    )
    pickup_line_collect(line_id=order.lines.get().pk, by=rx)
    decision = reconditioning_decide(
        device_id=device.pk, inspection_passed=True, store_id=central.pk, by=store_worker
    )
    assert decision.outcome == ReconditioningOutcome.SCRAP
    assert "1" in decision.reason


def test_device_3_collection_puts_a_reconditioning_work_order_in_the_workshop_queue(
    rx, store_worker, ordinary, rollator, central
) -> None:
    from logistics.models import WorkOrder, WorkOrderKind, WorkOrderState

    device = _in_workshop(rx, ordinary, rollator, central)
    work_order = WorkOrder.objects.get(device=device)
    assert work_order.kind == WorkOrderKind.RECONDITIONING
    assert work_order.state == WorkOrderState.REGISTERED
    assert work_order.workshop_id == central.pk
    assert work_order.patient_id is None
    reconditioning_decide(
        device_id=device.pk, inspection_passed=True, store_id=central.pk, by=store_worker
    )
    work_order.refresh_from_db()
    assert work_order.state == WorkOrderState.DONE
    assert work_order.result


def test_device_4_the_database_refuses_a_lost_device_on_a_pickup_line(
    rx, ordinary, hidden, rollator, central
) -> None:
    held = lent(rx, ordinary, rollator, central)
    order = pickup_order_create(
        patient_id=ordinary.pk, device_ids=[held.pk], channel="prescriber", by=rx
    )
    case = _lost(rx, hidden, rollator, central, serial_number="LOST-DB")
    with pytest.raises(IntegrityError, match="DEVICE-4"), transaction.atomic():
        PickupLine.objects.create(order=order, device=case.device, rent_stops_on=D(2027, 1, 1))
