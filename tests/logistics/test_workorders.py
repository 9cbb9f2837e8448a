"""Work orders (issue 11): their state machine with history, the repair's two working days, the
service's next-service date, time and parts (parts leave the workshop's store), returning an
order to its author, and LOG-3: a protected patient's work is never given to a supplier, in the
service and in the database."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import DatabaseError, transaction
from django.utils import translation

from logistics.models import (
    StockLevel,
    StockLocation,
    WorkOrder,
    WorkOrderKind,
    WorkOrderState,
    WorkOrderTransition,
)
from logistics.services.errors import LogisticsError, StateNotAllowed
from logistics.services.workorders import (
    work_order_create,
    work_order_finish,
    work_order_part_use,
    work_order_reject,
    work_order_resubmit,
    work_order_start,
    work_order_supplier_set,
    work_order_time_record,
)
from patients.models import Patient
from prescriptions.models import Article, Supplier
from tests.factories import UserFactory
from tests.logistics.devices_helpers import lent
from tests.prescriptions.conftest import article

pytestmark = pytest.mark.django_db

S = WorkOrderState
K = WorkOrderKind


@pytest.fixture(autouse=True)
def english() -> Any:
    with translation.override("en"):
        yield


@pytest.fixture
def technician() -> Any:
    return UserFactory(username="tekniker", role="technician")


@pytest.fixture
def rollator() -> Article:
    return article("2900", serial_numbered=True)


def states(work_order: WorkOrder) -> list[tuple[str, str]]:
    return list(
        WorkOrderTransition.objects.filter(work_order=work_order)
        .order_by("pk")
        .values_list("from_state", "to_state")
    )


def test_a_repair_of_a_lent_device_names_its_holder_prescriber_and_workshop(
    rx: Any, ordinary: Patient, rollator: Article, central: StockLocation
) -> None:
    device = lent(rx, ordinary, rollator, central)
    # Friday 4 December 2026: two working days later is Tuesday 8 December.
    order = work_order_create(
        kind=K.REPAIR,
        by=rx,
        device_id=device.pk,
        description="Bromsen tar inte",
        today=datetime.date(2026, 12, 4),
    )
    assert order.number.startswith("A-")
    assert order.patient_id == ordinary.pk
    assert order.prescriber == rx
    assert order.workshop == central
    assert order.due_on == datetime.date(2026, 12, 8)
    assert order.state == S.REGISTERED
    assert states(order) == [("", S.REGISTERED)]
    order.refresh_from_db()
    assert order.description == "Bromsen tar inte"


def test_a_technician_starts_records_time_and_parts_and_finishes(
    rx: Any, ordinary: Patient, rollator: Article, central: StockLocation, technician: Any
) -> None:
    device = lent(rx, ordinary, rollator, central)
    part = article("3100")
    StockLevel.objects.create(article=part, location=central, physical=5)
    order = work_order_create(kind=K.REPAIR, by=rx, device_id=device.pk, description="Hjul")
    work_order_start(work_order_id=order.pk, by=technician)
    work_order_time_record(work_order_id=order.pk, minutes=45, by=technician)
    work_order_part_use(work_order_id=order.pk, article_id=part.pk, quantity=2, by=technician)
    with pytest.raises(LogisticsError, match="Only 3"):
        work_order_part_use(work_order_id=order.pk, article_id=part.pk, quantity=4, by=technician)
    work_order_finish(work_order_id=order.pk, result="Nytt hjul monterat", by=technician)
    order.refresh_from_db()
    assert order.state == S.DONE
    assert order.technician == technician
    assert order.minutes_spent == 45
    assert StockLevel.objects.get(article=part, location=central).physical == 3
    assert states(order) == [
        ("", S.REGISTERED),
        (S.REGISTERED, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.DONE),
    ]
    with pytest.raises(StateNotAllowed):
        work_order_start(work_order_id=order.pk, by=technician)


def test_a_returned_order_goes_back_to_its_author_who_sends_it_again(
    rx: Any, ordinary: Patient, rollator: Article, central: StockLocation, technician: Any
) -> None:
    device = lent(rx, ordinary, rollator, central)
    order = work_order_create(kind=K.REPAIR, by=rx, device_id=device.pk, description="Trasig")
    work_order_reject(work_order_id=order.pk, reason="Vad är trasigt?", by=technician)
    order.refresh_from_db()
    assert order.state == S.REJECTED
    assert order.rejection_reason == "Vad är trasigt?"
    with pytest.raises(LogisticsError, match="Only the author"):
        work_order_resubmit(work_order_id=order.pk, description="Sits", by=technician)
    work_order_resubmit(work_order_id=order.pk, description="Sitsen har spruckit", by=rx)
    order.refresh_from_db()
    assert order.state == S.REGISTERED


def test_log_3_a_protected_patients_work_order_is_never_given_to_a_supplier(
    rx: Any, protected_patient: Patient, rollator: Article, central: StockLocation
) -> None:
    device = lent(rx, protected_patient, rollator, central)
    supplier = Supplier.objects.create(name="Verkstad AB")
    order = work_order_create(kind=K.REPAIR, by=rx, device_id=device.pk, description="Broms")
    with pytest.raises(LogisticsError, match="region's own technicians"):
        work_order_supplier_set(work_order_id=order.pk, supplier_id=supplier.pk, by=rx)
    # The database refuses it too, whatever the code path.
    with pytest.raises(DatabaseError, match="LOG-3"), transaction.atomic():
        WorkOrder.objects.filter(pk=order.pk).update(supplier=supplier)
    assert WorkOrder.objects.get(pk=order.pk).supplier_id is None


def test_log_3_an_ordinary_patients_work_order_may_go_to_a_supplier(
    rx: Any, ordinary: Patient, rollator: Article, central: StockLocation
) -> None:
    device = lent(rx, ordinary, rollator, central)
    supplier = Supplier.objects.create(name="Verkstad AB")
    order = work_order_create(kind=K.REPAIR, by=rx, device_id=device.pk, description="Broms")
    work_order_supplier_set(work_order_id=order.pk, supplier_id=supplier.pk, by=rx)
    assert WorkOrder.objects.get(pk=order.pk).supplier_id == supplier.pk


def test_log_3_a_patient_who_becomes_protected_has_their_work_taken_back_from_the_supplier(
    rx: Any, ordinary: Patient, rollator: Article, central: StockLocation
) -> None:
    from logistics.tasks import reroute_orders_for_protected

    device = lent(rx, ordinary, rollator, central)
    supplier = Supplier.objects.create(name="Verkstad AB")
    order = work_order_create(kind=K.REPAIR, by=rx, device_id=device.pk, description="Broms")
    work_order_supplier_set(work_order_id=order.pk, supplier_id=supplier.pk, by=rx)
    Patient.objects.filter(pk=ordinary.pk).update(protected_registration=True)
    reroute_orders_for_protected(ordinary.pk)
    assert WorkOrder.objects.get(pk=order.pk).supplier_id is None
    # Twice changes nothing more.
    assert reroute_orders_for_protected(ordinary.pk) == 0


@pytest.mark.parametrize(
    ("reported", "due"),
    [
        # Maundy Thursday 2026: Good Friday and Easter Monday are no working days.
        (datetime.date(2026, 4, 2), datetime.date(2026, 4, 8)),
        # Thursday before midsummer: midsommarafton (Friday 19 June) is a day off.
        (datetime.date(2026, 6, 18), datetime.date(2026, 6, 23)),
        # 23 December: julafton, juldagen and annandag jul are days off.
        (datetime.date(2026, 12, 23), datetime.date(2026, 12, 29)),
    ],
)
def test_a_repair_is_due_two_working_days_after_it_is_reported_around_holidays(
    rx: Any,
    ordinary: Patient,
    rollator: Article,
    central: StockLocation,
    reported: datetime.date,
    due: datetime.date,
) -> None:
    device = lent(rx, ordinary, rollator, central)
    order = work_order_create(kind=K.REPAIR, by=rx, device_id=device.pk, today=reported)
    assert order.due_on == due
