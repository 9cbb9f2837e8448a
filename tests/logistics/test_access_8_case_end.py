"""ACCESS-8: when a unit's last open case for a protected patient closes (a prescription, its
order, a pickup, a work order), the grants the unit's requests gave for the patient end and
their holders are told, with the case number and nothing about the person in the subject. A
unit with another case still open keeps them; another unit's grants are not touched.
Identity numbers are Skatteverket test numbers (IDENT-4)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone, translation
from guardian.shortcuts import assign_perm

from logistics.models import (
    CustomerOrder,
    CustomerOrderLine,
    LineState,
    OrderState,
    PickupChannel,
    PickupLine,
    PickupOrder,
    PickupState,
    StockLocation,
    WorkOrderKind,
)
from logistics.services.pickups import pickup_line_collect, pickup_order_create
from logistics.services.state import order_state_sync
from logistics.services.workorders import (
    work_order_assign,
    work_order_cancel,
    work_order_create,
    work_order_finish,
    work_order_start,
)
from patients.models import Notification, Patient
from prescriptions.models import Article
from prescriptions.services.drafts import prescription_draft_start
from prescriptions.services.routing import prescription_cancel
from protection import tasks
from protection.gate import PROTECTED_PERMISSION
from protection.models import CaseClosure, Grant, GrantRequest, GrantRequestStatus
from protection.services.case_end import HANDLE_TASK
from tests.factories import UnitFactory, UserFactory
from tests.logistics.devices_helpers import lent
from tests.personas import ctx_for
from tests.prescriptions.conftest import SECRET_NAME

pytestmark = pytest.mark.django_db

PERSONAL = (*SECRET_NAME, "198912232389", "8912232389")


@pytest.fixture(autouse=True)
def _english_messages():
    with translation.override("en"):
        yield


def unit_grant(holder: Any, patient: Patient, unit_id: int, *, case: str) -> Grant:
    """A grant decided on a request of ``unit_id`` for ``case``, as the decision makes it."""
    today = timezone.localdate()
    manager = UserFactory(username=f"chef-{case}", role="unit_manager")
    request = GrantRequest.objects.create(
        patient=patient,
        unit_id=unit_id,
        requested_by=manager,
        case_reference=case,
        starts_on=today,
        ends_on=today + datetime.timedelta(days=60),
        reason="Förskrivning pågår",
        status=GrantRequestStatus.GRANTED,
    )
    now = timezone.now()
    grant = Grant.objects.create(
        request=request,
        user=holder,
        patient=patient,
        starts_at=now - datetime.timedelta(hours=1),
        ends_at=now + datetime.timedelta(days=60),
    )
    assign_perm(PROTECTED_PERMISSION, holder, patient)
    return grant


def ended(grant: Grant) -> Grant:
    return Grant.objects.get(pk=grant.pk)


def closed_and_handled(close: Any) -> int:
    """Close the case in its own transaction, as a request would, then run the task its commit
    enqueues (the worker's job; here in this process)."""
    with transaction.atomic():
        close()
    return tasks.handle_case_closures()


@pytest.fixture
def device(rx: Any, hidden: Patient, rollator: Article, central: StockLocation) -> Any:
    """A device lent to the protected patient; its prescription approved and order delivered,
    so the unit has no open case for the patient but what a test opens."""
    device = lent(rx, hidden, rollator, central)
    CustomerOrder.objects.filter(patient=hidden).update(state=OrderState.DELIVERED)
    return device


@pytest.fixture
def nurse(rx: Any) -> Any:
    return UserFactory(username="nurse", role="prescriber", unit=rx.staff_profile.unit)


def subject_free_of_the_person(notification: Notification) -> None:
    for personal in PERSONAL:
        assert personal not in notification.subject


def test_access_8_the_last_work_order_closing_ends_the_units_grants_and_tells_the_holder(
    rx: Any, hidden: Patient, device: Any, nurse: Any
) -> None:
    work_order = work_order_create(kind=WorkOrderKind.REPAIR, by=rx, device_id=device.pk)
    unit_id = work_order.contact_unit_id
    assert unit_id is not None
    ours = unit_grant(nurse, hidden, unit_id, case="AO-100")
    theirs = unit_grant(nurse, hidden, UnitFactory(name="Annan enhet").pk, case="AO-200")

    count = closed_and_handled(
        lambda: work_order_cancel(work_order_id=work_order.pk, reason="Dubblett", by=rx)
    )

    assert count == 1
    assert ended(ours).ended_at is not None
    assert ended(ours).end_reason == "case closed"
    # Another unit's request is for another case: its grant stays.
    assert ended(theirs).ended_at is None
    (notice,) = Notification.objects.filter(user=nurse)
    assert "AO-100" in notice.subject
    subject_free_of_the_person(notice)
    assert not CaseClosure.objects.filter(handled_at__isnull=True).exists()
    # Safe twice: a second run finds nothing to do.
    assert tasks.handle_case_closures() == 0
    assert Notification.objects.filter(user=nurse).count() == 1


def test_access_8_a_finished_work_order_closes_the_case_too(
    rx: Any, hidden: Patient, device: Any, nurse: Any
) -> None:
    work_order = work_order_create(kind=WorkOrderKind.REPAIR, by=rx, device_id=device.pk)
    grant = unit_grant(nurse, hidden, work_order.contact_unit_id, case="AO-101")
    technician = UserFactory(username="tekniker", role="technician")
    work_order_assign(work_order_id=work_order.pk, technician=technician, by=rx)
    work_order_start(work_order_id=work_order.pk, by=technician)

    closed_and_handled(
        lambda: work_order_finish(work_order_id=work_order.pk, result="Hjul bytt", by=technician)
    )

    assert ended(grant).end_reason == "case closed"


def test_access_8_a_unit_with_another_open_case_keeps_its_grants(
    rx: Any, hidden: Patient, device: Any, nurse: Any
) -> None:
    first = work_order_create(kind=WorkOrderKind.REPAIR, by=rx, device_id=device.pk)
    work_order_create(kind=WorkOrderKind.SERVICE, by=rx, device_id=device.pk)
    grant = unit_grant(nurse, hidden, first.contact_unit_id, case="AO-102")

    count = closed_and_handled(
        lambda: work_order_cancel(work_order_id=first.pk, reason="Dubblett", by=rx)
    )

    assert count == 0
    assert ended(grant).ended_at is None
    assert not Notification.objects.filter(user=nurse).exists()
    # The closure was looked at, and is not looked at again.
    assert CaseClosure.objects.get().handled_at is not None


def test_access_8_the_order_delivered_closes_the_case(
    rx: Any, hidden: Patient, device: Any, nurse: Any
) -> None:
    order = CustomerOrder.objects.get(patient=hidden)
    CustomerOrder.objects.filter(pk=order.pk).update(state=OrderState.DISPATCHED)
    grant = unit_grant(nurse, hidden, order.unit_id, case=order.number)
    CustomerOrderLine.objects.filter(order=order).update(state=LineState.DELIVERED)

    closed_and_handled(lambda: order_state_sync(order_id=order.pk))

    assert CustomerOrder.objects.get(pk=order.pk).state == OrderState.DELIVERED
    assert ended(grant).end_reason == "case closed"
    (notice,) = Notification.objects.filter(user=nurse)
    assert order.number in notice.subject
    subject_free_of_the_person(notice)


def test_access_8_the_pickup_done_closes_the_case(
    rx: Any, hidden: Patient, device: Any, nurse: Any, store_worker: Any
) -> None:
    pickup = pickup_order_create(
        patient_id=hidden.pk, device_ids=[device.pk], channel=PickupChannel.values[0], by=rx
    )
    grant = unit_grant(nurse, hidden, pickup.unit_id, case=pickup.number)
    (line,) = PickupLine.objects.filter(order=pickup)

    closed_and_handled(lambda: pickup_line_collect(line_id=line.pk, by=store_worker))

    assert PickupOrder.objects.get(pk=pickup.pk).state == PickupState.DONE
    assert ended(grant).end_reason == "case closed"


def test_access_8_the_closure_is_handled_after_the_commit_with_no_argument(
    rx: Any,
    hidden: Patient,
    device: Any,
    nurse: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    work_order = work_order_create(kind=WorkOrderKind.REPAIR, by=rx, device_id=device.pk)
    grant = unit_grant(nurse, hidden, work_order.contact_unit_id, case="AO-103")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        work_order_cancel(work_order_id=work_order.pk, reason="Dubblett", by=rx)
    # LEAK-1: the task is sent by its name after the commit and told nothing; it reads the
    # closures from the database.
    sends = [c.args[:2] for c in callbacks if getattr(c, "args", ())[:1] == (HANDLE_TASK,)]
    assert sends == [(HANDLE_TASK, ())]
    # Nothing ends inside the closing transaction itself.
    assert ended(grant).ended_at is None


def test_access_8_a_closure_for_a_unit_without_grants_is_not_recorded(
    rx: Any, hidden: Patient, device: Any
) -> None:
    work_order = work_order_create(kind=WorkOrderKind.REPAIR, by=rx, device_id=device.pk)
    work_order_cancel(work_order_id=work_order.pk, reason="Dubblett", by=rx)
    assert not CaseClosure.objects.exists()


def test_access_8_a_prescription_cancelled_closes_the_case(
    rx: Any, hidden: Patient, device: Any, nurse: Any
) -> None:
    ctx = ctx_for(rx, stepped_up=True)
    draft = prescription_draft_start(ctx=ctx, patient_reference=hidden.reference)
    grant = unit_grant(nurse, hidden, draft.unit_id, case=draft.reference)

    closed_and_handled(
        lambda: prescription_cancel(ctx=ctx, reference=draft.reference, reason="Fel hjälpmedel")
    )

    assert ended(grant).end_reason == "case closed"
    (notice,) = Notification.objects.filter(user=nurse)
    assert draft.reference in notice.subject
    subject_free_of_the_person(notice)
