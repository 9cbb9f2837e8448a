"""DEVICE-1: the device card (individkort) and the register's search, with the LEAK-5 holder
rule: logistics staff read a protected patient's device as "a patient, contact through the
prescriber's unit", never the name, number, birth year, address or the reference."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from logistics.models import (
    DeviceStatus,
    LossCase,
    PickupLineState,
    WorkOrderKind,
    WorkOrderState,
)
from logistics.services.losses import loss_case_decide
from logistics.services.pickups import pickup_line_collect, pickup_line_missing, pickup_order_create
from logistics.services.reconditioning import reconditioning_decide
from logistics.services.workorders import work_order_create
from patients.models import AccessEntry, AccessOutcome, PatientIdentity
from tests.factories import UserFactory
from tests.logistics.devices_helpers import lent
from tests.logistics.factories import DeviceFactory
from tests.personas import ORDINARY_NUMBER, give_grant, logged_in
from tests.prescriptions.leaks import SECRET_NAME, leaks

pytestmark = pytest.mark.django_db

# Session, user with unit, permissions (one read for the view's role checks and the menu), the
# device (with its order lines, history and issue-11 lists).
MASKED_CARD_QUERIES = 4  # was 7 (issue 10: one permission read; lines, history in the device's)
SHOWN_CARD_QUERIES = 6  # was 9 (issue 10)


@pytest.fixture
def technician() -> Any:
    return UserFactory(username="tekniker", role="technician")


def _birth_year_shown(html: str, patient) -> bool:
    return patient.birth_year is not None and str(patient.birth_year) in html


def test_device_1_the_card_shows_every_field_and_the_history(
    client: Client, store_worker, rx, ordinary, rollator, central
) -> None:
    device = lent(rx, ordinary, rollator, central)
    logged_in(client, store_worker)
    response = client.get(f"/logistics/devices/{device.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    for shown in (
        device.serial_number,
        rollator.article_number,
        rollator.name,
        rollator.gtin,
        "Skåne",
        "Lent to the patient",
        "Times reissued",
        "2026-01-15",  # received
    ):
        assert shown in html, shown
    if device.warranty_until:
        assert device.warranty_until.isoformat() in html
    if device.next_service_on:
        assert device.next_service_on.isoformat() in html
    # The history, oldest first, with its notes; and the order it went out on.
    events = response.context["card"].events
    assert [e.to_state for e in events] == [
        DeviceStatus.IN_STOCK,
        DeviceStatus.ALLOCATED,
        DeviceStatus.IN_TRANSIT,
        DeviceStatus.ON_LOAN,
    ]
    # The receipt's note, in the language it was written in (history rows are stored text).
    assert events[0].note
    assert events[0].note in html
    order_number = response.context["card"].lines[0].order.number
    assert order_number in html
    # An ordinary patient: name and number through the gate, which logged the read (AUDIT-1).
    assert f"{ORDINARY_NUMBER[:8]}-{ORDINARY_NUMBER[8:]}" in html
    entry = AccessEntry.objects.filter(patient=ordinary).latest("pk")
    assert entry.outcome == AccessOutcome.ALLOWED
    assert entry.user_id == store_worker.pk


def test_device_1_leak_5_logistics_staff_see_a_protected_holder_only_as_contact_through_the_unit(
    client: Client, store_worker, rx, hidden, rollator, central
) -> None:
    device = lent(rx, hidden, rollator, central)
    logged_in(client, store_worker)
    before = AccessEntry.objects.count()
    html = client.get(f"/logistics/devices/{device.pk}/").content.decode()
    unit_name = rx.staff_profile.unit.name
    assert "contact through the prescriber's unit" in html
    assert unit_name in html
    assert leaks(html) == []
    assert hidden.reference not in html
    assert not _birth_year_shown(html, hidden)
    assert "Protected identity" not in html
    # Nothing of the patient read, nothing to log.
    assert AccessEntry.objects.count() == before
    listing = client.get("/logistics/devices/", {"serial": device.serial_number[:4]})
    text = listing.content.decode()
    assert device.serial_number in text
    assert leaks(text) == []
    assert hidden.reference not in text
    assert not _birth_year_shown(text, hidden)


def test_device_1_the_grant_holder_sees_the_protected_holder_after_step_up(
    client: Client, rx, hidden, rollator, central
) -> None:
    device = lent(rx, hidden, rollator, central)
    service = UserFactory(username="kundtjanst3", role="customer_service")
    give_grant(service, PatientIdentity.objects.get(patient=hidden))
    logged_in(client, service)
    html = client.get(f"/logistics/devices/{device.pk}/").content.decode()
    assert "Confirm your password to see who" in html
    assert leaks(html) == []
    logged_in(client, service, stepped_up=True)
    html = client.get(f"/logistics/devices/{device.pk}/").content.decode()
    assert SECRET_NAME[1] in html
    assert f"/patients/{hidden.reference}/" in html
    assert AccessEntry.objects.filter(
        patient=hidden, user_id=service.pk, outcome=AccessOutcome.ALLOWED
    ).exists()
    # The prescriber holds a grant but not logistics.view_device: the card is not theirs.
    logged_in(client, rx, stepped_up=True)
    assert client.get(f"/logistics/devices/{device.pk}/").status_code == 403


def test_device_1_denied_without_the_permission_and_missing_id(
    client: Client, rx, store_worker, rollator, central
) -> None:
    device = DeviceFactory(article=rollator, location=central)
    logged_in(client, rx)
    assert client.get(f"/logistics/devices/{device.pk}/").status_code == 403
    assert client.get("/logistics/devices/").status_code == 403
    logged_in(client, store_worker)
    assert client.get(f"/logistics/devices/{device.pk + 1000}/").status_code == 404
    client.logout()
    assert client.get(f"/logistics/devices/{device.pk}/").status_code == 302


def test_device_1_search_by_serial_prefix_exact_and_article_paginated(
    client: Client, store_worker, rollator, pads, central, django_assert_max_num_queries
) -> None:
    for _ in range(30):
        DeviceFactory(article=rollator, location=central)
    other = DeviceFactory(article=pads, location=central, serial_number="XY-1")
    logged_in(client, store_worker)
    with django_assert_max_num_queries(6):
        first = client.get("/logistics/devices/", {"serial": "SN"})
    assert first.status_code == 200
    assert len(first.context["result"].rows) == 25
    assert first.context["result"].has_next
    second = client.get("/logistics/devices/", {"serial": "SN", "page": 2})
    assert len(second.context["result"].rows) == 5
    assert not second.context["result"].has_next
    # A scanned serial number opens the card.
    scanned = client.get("/logistics/devices/", {"serial": "XY-1"})
    assert scanned.status_code == 302
    assert scanned["Location"] == f"/logistics/devices/{other.pk}/"
    by_article = client.get("/logistics/devices/", {"article": pads.article_number})
    assert [d.pk for d in by_article.context["result"].rows] == [other.pk]


def test_device_1_the_card_takes_a_handful_of_queries(
    client: Client,
    store_worker,
    technician,
    rx,
    hidden,
    ordinary,
    rollator,
    central,
    django_assert_num_queries,
) -> None:
    masked = lent(rx, hidden, rollator, central)
    shown = lent(rx, ordinary, rollator, central)
    logged_in(client, store_worker)
    for device in (masked, shown):
        work_order_create(kind=WorkOrderKind.REPAIR, by=technician, device_id=device.pk)
        work_order_create(kind=WorkOrderKind.INSTALLATION, by=technician, device_id=device.pk)
    client.get(f"/logistics/devices/{masked.pk}/")
    # Session, user, role permissions; the device with its open incident, order lines,
    # history, signed adaptations (PRESC-6), pickups, loss cases, reconditioning decisions
    # (DEVICE-3/4) and work orders in one query.
    with django_assert_num_queries(MASKED_CARD_QUERIES):
        assert client.get(f"/logistics/devices/{masked.pk}/").status_code == 200
    # The gate's reads and the access entry on top.
    with django_assert_num_queries(SHOWN_CARD_QUERIES):
        assert client.get(f"/logistics/devices/{shown.pk}/").status_code == 200


def test_device_1_the_card_lists_the_devices_work_orders_without_a_query_of_their_own(
    client: Client,
    store_worker,
    technician,
    rx,
    hidden,
    rollator,
    central,
    django_assert_max_num_queries,
) -> None:
    """Issue 11: the card lists the device's work orders (number, kind, state, due date); the
    number links to the work order's page for those who may open it (technicians, customer
    service); the list is read within the device's own query."""
    device = lent(rx, hidden, rollator, central)
    repair = work_order_create(kind=WorkOrderKind.REPAIR, by=technician, device_id=device.pk)
    fitting = work_order_create(kind=WorkOrderKind.INSTALLATION, by=technician, device_id=device.pk)
    logged_in(client, technician)
    with django_assert_max_num_queries(MASKED_CARD_QUERIES):
        response = client.get(f"/logistics/devices/{device.pk}/")
    html = response.content.decode()
    orders = response.context["card"].work_orders
    assert [order.number for order in orders] == [fitting.number, repair.number]
    assert [(order.kind, order.state) for order in orders] == [
        (WorkOrderKind.INSTALLATION, WorkOrderState.REGISTERED),
        (WorkOrderKind.REPAIR, WorkOrderState.REGISTERED),
    ]
    assert orders[1].due_on == repair.due_on
    assert f'href="/logistics/work-orders/{repair.pk}/">{repair.number}</a>' in html
    assert repair.due_on is not None
    assert repair.due_on.isoformat() in html
    assert leaks(html) == []
    # Logistics staff read the numbers, without a link to a page they may not open.
    logged_in(client, store_worker)
    html = client.get(f"/logistics/devices/{device.pk}/").content.decode()
    assert repair.number in html
    assert f'href="/logistics/work-orders/{repair.pk}/"' not in html


def test_device_3_device_4_the_card_shows_pickups_losses_and_reconditionings_as_stored(
    client: Client, store_worker, rx, ordinary, rollator, central, django_assert_num_queries
) -> None:
    """The lists read within the device's query come back as the rows are stored: the pickup
    order's number, the loss case's exact amount, the reconditioning decision's reason."""
    rollator.lifespan_years = 5
    rollator.save()
    lost = lent(rx, ordinary, rollator, central, received_on=datetime.date(2026, 1, 15))
    pickup = pickup_order_create(
        patient_id=ordinary.pk,
        device_ids=[lost.pk],
        channel="prescriber",
        by=rx,
        today=datetime.date(2026, 12, 23),
    )
    line = pickup.lines.get()
    pickup_line_missing(line_id=line.pk, by=store_worker, today=datetime.date(2027, 1, 4))
    case = LossCase.objects.get(device=lost)
    case = loss_case_decide(case_id=case.pk, by=rx, today=datetime.date(2027, 1, 20))
    assert case.debit_sek == Decimal("2320.00")
    returned = lent(rx, ordinary, rollator, central)
    collected = pickup_order_create(
        patient_id=ordinary.pk, device_ids=[returned.pk], channel="prescriber", by=rx
    )
    pickup_line_collect(line_id=collected.lines.get().pk, by=rx)
    decision = reconditioning_decide(
        device_id=returned.pk, inspection_passed=False, store_id=central.pk, by=store_worker
    )
    logged_in(client, store_worker)
    with django_assert_num_queries(MASKED_CARD_QUERIES + 2):  # the patient is shown: the gate
        response = client.get(f"/logistics/devices/{lost.pk}/")
    card = response.context["card"]
    assert [(row.pk, row.order.number, row.state) for row in card.pickup_lines] == [
        (line.pk, pickup.number, PickupLineState.MISSING)
    ]
    assert card.pickup_lines[0].rent_restarted_on == datetime.date(2026, 12, 30)
    assert [(row.pk, row.number, row.state, row.debit_sek) for row in card.loss_cases] == [
        (case.pk, case.number, case.state, Decimal("2320.00"))
    ]
    html = response.content.decode()
    assert pickup.number in html
    assert f'href="/logistics/losses/{case.pk}/"' in html
    assert "2320.00 SEK to debit" in html
    card = client.get(f"/logistics/devices/{returned.pk}/").context["card"]
    assert [(row.pk, row.outcome, row.reason) for row in card.reconditionings] == [
        (decision.pk, decision.outcome, decision.reason)
    ]
    assert card.reconditionings[0].decided_at == decision.decided_at
