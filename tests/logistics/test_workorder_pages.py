"""The work order pages (issue 11): the technician's queue (pinned queries), a work order's page
where the technician works, customer service's fault report, the author's returned orders, and
the rules on them: PRESC-10 and LEAK-5 (a protected patient's work order shows the prescriber as
contact, never the patient, and the caller's number only to grant holders) and PRINT-1 (no
printable work order; the page of a protected patient's order carries the print notice)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from logistics.models import (
    Device,
    StockLevel,
    StockLocation,
    WorkOrder,
    WorkOrderKind,
    WorkOrderSource,
    WorkOrderState,
)
from logistics.services.workorders import work_order_create, work_order_start
from patients.models import Patient
from prescriptions.models import Article, PrescribingUnit
from tests.factories import UserFactory
from tests.logistics.devices_helpers import lent
from tests.personas import logged_in
from tests.prescriptions.conftest import SECRET_ADDRESS, SECRET_NAME, article

pytestmark = pytest.mark.django_db

K = WorkOrderKind
S = WorkOrderState
CALLER_PHONE = "070-555 12 34"
PRINT_SHEET = "css/print-protected.css"
NOTICE = 'class="print-notice"'


@pytest.fixture
def technician() -> Any:
    return UserFactory(username="tekniker", role="technician")


@pytest.fixture
def rollator() -> Article:
    return article("2900", serial_numbered=True)


def repair(
    rx: Any, patient: Patient, rollator: Article, central: StockLocation, **kw: Any
) -> WorkOrder:
    device = lent(rx, patient, rollator, central)
    PrescribingUnit.objects.filter(unit_id=rx.staff_profile.unit_id).update(phone="040-33 00 00")
    return work_order_create(
        kind=K.REPAIR, by=rx, device_id=device.pk, description="Bromsen tar inte", **kw
    )


def url(order: WorkOrder) -> str:
    return reverse("logistics:work_order", args=[order.pk])


def test_presc_10_a_technician_sees_the_prescriber_as_contact_never_the_protected_patient(
    client: Client,
    rx: Any,
    hidden: Patient,
    rollator: Article,
    central: StockLocation,
    technician: Any,
) -> None:
    order = repair(rx, hidden, rollator, central, caller_phone=CALLER_PHONE)
    text = logged_in(client, technician).get(url(order)).content.decode()
    assert "Contact through the prescriber" in text
    assert rx.get_full_name() in text
    assert "040-33 00 00" in text  # the prescriber's unit's phone
    assert order.number in text
    for secret in (*SECRET_NAME, SECRET_ADDRESS, CALLER_PHONE, hidden.reference):
        assert secret not in text


def test_leak_5_the_callers_phone_of_a_protected_patient_is_shown_to_grant_holders_only(
    client: Client,
    rx: Any,
    hidden: Patient,
    rollator: Article,
    central: StockLocation,
    customer_service: Any,
) -> None:
    order = repair(rx, hidden, rollator, central, caller_phone=CALLER_PHONE)
    # Customer service took the call but holds no grant: not even they read it back.
    assert CALLER_PHONE not in logged_in(client, customer_service).get(url(order)).content.decode()
    client.logout()
    text = logged_in(client, rx, stepped_up=True).get(url(order)).content.decode()
    assert CALLER_PHONE in text
    assert SECRET_NAME[1] in text  # the grant holder sees who it is


def test_leak_5_the_callers_phone_is_stored_encrypted(
    rx: Any, ordinary: Patient, rollator: Article, central: StockLocation
) -> None:
    from django.db import connection

    order = repair(rx, ordinary, rollator, central, caller_phone=CALLER_PHONE)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT caller_phone, description FROM logistics_workorder WHERE id = %s", [order.pk]
        )
        stored = cursor.fetchone()
    assert CALLER_PHONE not in stored[0]
    assert "Bromsen" not in stored[1]


def test_a_technician_sees_an_ordinary_patients_callers_phone(
    client: Client,
    rx: Any,
    ordinary: Patient,
    rollator: Article,
    central: StockLocation,
    technician: Any,
) -> None:
    order = repair(rx, ordinary, rollator, central, caller_phone=CALLER_PHONE)
    text = logged_in(client, technician).get(url(order)).content.decode()
    assert CALLER_PHONE in text
    assert "Contact through the prescriber" not in text
    assert NOTICE not in text


def test_print_1_a_protected_patients_work_order_page_prints_only_the_notice(
    client: Client,
    rx: Any,
    hidden: Patient,
    rollator: Article,
    central: StockLocation,
    technician: Any,
) -> None:
    order = repair(rx, hidden, rollator, central)
    for user in (technician, rx):
        client.logout()
        text = logged_in(client, user, stepped_up=True).get(url(order)).content.decode()
        assert PRINT_SHEET in text
        assert NOTICE in text
    # The queue says the order concerns protected identity (on screen), so it too.
    client.logout()
    text = logged_in(client, technician).get(reverse("logistics:work_orders")).content.decode()
    assert PRINT_SHEET in text
    assert NOTICE in text


def test_print_1_there_is_no_printable_work_order() -> None:
    from django.urls import get_resolver

    names = [name for name in get_resolver().reverse_dict if isinstance(name, str)]
    assert not [n for n in names if "work_order" in n and ("pdf" in n or "print" in n)]


def test_the_queue_lists_repairs_with_due_date_and_overdue_and_pins_its_queries(
    client: Client,
    rx: Any,
    ordinary: Patient,
    rollator: Article,
    central: StockLocation,
    technician: Any,
    django_assert_num_queries: Any,
) -> None:
    late = repair(rx, ordinary, rollator, central, today=datetime.date(2026, 1, 5))
    logged_in(client, technician)
    # Session, user, permissions, the page's frame, workshops, open orders, waiting for
    # signature, service falling due: the same with more rows.
    with django_assert_num_queries(8):
        response = client.get(reverse("logistics:work_orders"))
    text = response.content.decode()
    assert late.number in text
    # Two working days after Monday 5 January: Epiphany (the 6th) is no working day.
    assert "2026-01-08" in text
    assert "Overdue" in text
    for _ in range(3):
        repair(rx, ordinary, rollator, central)
    with django_assert_num_queries(8):
        client.get(reverse("logistics:work_orders"))


def test_each_section_lists_its_most_urgent_orders_and_counts_them_all(
    client: Client,
    rx: Any,
    ordinary: Patient,
    rollator: Article,
    central: StockLocation,
    technician: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_assert_num_queries: Any,
) -> None:
    """A recall's thousands of work orders: each section shows its first rows, most urgent
    first, with the count of all of them, in the same queries; the rows read no encrypted text."""
    monkeypatch.setattr("logistics.selectors.workorders.QUEUE_LIMIT", 2)
    orders = [
        repair(rx, ordinary, rollator, central, today=datetime.date(2026, 1, day))
        for day in (14, 7, 21)
    ]
    logged_in(client, technician)
    with django_assert_num_queries(8):
        response = client.get(reverse("logistics:work_orders"))
    text = response.content.decode()
    assert "Repairs (3)" in text
    assert "The 2 most urgent of 3 are listed." in text
    assert orders[1].number in text
    assert orders[0].number in text
    assert orders[2].number not in text
    assert text.index(orders[1].number) < text.index(orders[0].number)
    repairs = response.context["queue"].sections[0]
    assert repairs.count == 3
    assert {"description", "caller_phone", "result", "rejection_reason"} <= (
        repairs.rows[0].work_order.get_deferred_fields()
    )


def test_the_queue_is_for_technicians_only(
    client: Client, rx: Any, customer_service: Any, store_worker: Any
) -> None:
    for user in (rx, customer_service, store_worker):
        client.logout()
        assert logged_in(client, user).get(reverse("logistics:work_orders")).status_code == 403
    client.logout()
    response = client.get(reverse("logistics:work_orders"))
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_a_work_order_is_not_found_for_others_and_for_a_missing_id(
    client: Client,
    rx: Any,
    ordinary: Patient,
    rollator: Article,
    central: StockLocation,
    store_worker: Any,
) -> None:
    order = repair(rx, ordinary, rollator, central)
    other = UserFactory(username="annan", role="prescriber")
    for user in (store_worker, other):
        client.logout()
        logged_in(client, user)
        assert client.get(url(order)).status_code == 404
        assert client.post(url(order), {"action": "start"}).status_code == 404
    client.logout()
    logged_in(client, rx)
    assert client.get(reverse("logistics:work_order", args=[999999])).status_code == 404
    # The author sees it but may not work on it.
    assert client.get(url(order)).status_code == 200
    assert client.post(url(order), {"action": "start"}).status_code == 404
    assert WorkOrder.objects.get(pk=order.pk).state == S.REGISTERED


def test_a_technician_starts_records_time_and_a_part_and_finishes_on_the_page(
    client: Client,
    rx: Any,
    ordinary: Patient,
    rollator: Article,
    central: StockLocation,
    technician: Any,
) -> None:
    order = repair(rx, ordinary, rollator, central)
    part = article("3100")
    StockLevel.objects.create(article=part, location=central, physical=4)
    logged_in(client, technician)
    assert client.post(url(order), {"action": "start"}).status_code == 302
    assert client.post(url(order), {"action": "time", "minutes": "30"}).status_code == 302
    response = client.post(
        url(order), {"action": "part", "article_number": part.article_number, "quantity": "9"}
    )
    assert response.status_code == 400  # not enough in the store: the typed input stays
    assert 'value="9"' in response.content.decode()
    client.post(
        url(order), {"action": "part", "article_number": part.article_number, "quantity": "1"}
    )
    response = client.post(url(order), {"action": "finish", "result": ""})
    assert response.status_code == 400
    client.post(url(order), {"action": "finish", "result": "Bromsvajer bytt"})
    order.refresh_from_db()
    assert order.state == S.DONE
    assert order.minutes_spent == 30
    assert StockLevel.objects.get(article=part, location=central).physical == 3
    assert "Bromsvajer bytt" in client.get(url(order)).content.decode()


def test_a_returned_order_reaches_its_author_who_completes_it(
    client: Client,
    rx: Any,
    ordinary: Patient,
    rollator: Article,
    central: StockLocation,
    technician: Any,
) -> None:
    order = repair(rx, ordinary, rollator, central)
    logged_in(client, technician)
    client.post(url(order), {"action": "reject", "reason": "Vilken broms?"})
    assert WorkOrder.objects.get(pk=order.pk).state == S.REJECTED
    client.logout()
    logged_in(client, rx)
    text = client.get(reverse("logistics:work_orders_returned")).content.decode()
    assert order.number in text
    assert "Work orders returned to you" in client.get("/start/").content.decode()
    client.post(url(order), {"action": "resubmit", "description": "Vänster broms tar inte"})
    assert WorkOrder.objects.get(pk=order.pk).state == S.REGISTERED


def test_presc_10_a_fault_report_becomes_a_repair_in_the_right_receptions_queue(
    client: Client,
    rx: Any,
    hidden: Patient,
    rollator: Article,
    central: StockLocation,
    customer_service: Any,
    technician: Any,
) -> None:
    device = lent(rx, hidden, rollator, central)
    logged_in(client, customer_service)
    response = client.post(
        reverse("logistics:fault_report"),
        {"serial": device.serial_number, "fault": "Hjulet lossnar", "caller_phone": CALLER_PHONE},
    )
    order = WorkOrder.objects.get(device=device)
    assert response.status_code == 302
    assert response["Location"] == url(order)
    assert order.kind == K.REPAIR
    assert order.source == WorkOrderSource.FAULT_REPORT
    assert order.workshop == central
    assert order.prescriber == rx
    assert order.caller_phone == CALLER_PHONE
    client.logout()
    text = logged_in(client, technician).get(reverse("logistics:work_orders")).content.decode()
    assert order.number in text
    assert "Contact through the prescriber" in text
    assert CALLER_PHONE not in text
    assert SECRET_NAME[1] not in text


def test_a_fault_report_with_an_unknown_serial_keeps_what_was_typed(
    client: Client, customer_service: Any, central: StockLocation
) -> None:
    logged_in(client, customer_service)
    response = client.post(
        reverse("logistics:fault_report"),
        {"serial": "NOPE-1", "fault": "Trasig", "caller_phone": CALLER_PHONE},
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "No device in the register has that serial number." in text
    assert 'value="NOPE-1"' in text
    assert "Trasig" in text
    assert not WorkOrder.objects.exists()


def test_the_fault_report_is_customer_services(
    client: Client, rx: Any, technician: Any, store_worker: Any
) -> None:
    for user in (rx, technician, store_worker):
        client.logout()
        logged_in(client, user)
        assert client.get(reverse("logistics:fault_report")).status_code == 403
        assert client.post(reverse("logistics:fault_report"), {}).status_code == 403


def test_service_falls_due_from_the_next_service_date_and_is_registered_once(
    client: Client,
    rx: Any,
    ordinary: Patient,
    rollator: Article,
    central: StockLocation,
    technician: Any,
) -> None:
    device = lent(rx, ordinary, rollator, central)
    Device.objects.filter(pk=device.pk).update(
        next_service_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    logged_in(client, technician)
    text = client.get(reverse("logistics:work_orders")).content.decode()
    assert device.serial_number in text
    assert "Register a service work order" in text
    create = reverse("logistics:work_order_service_create")
    client.post(create, {"device": device.pk})
    client.post(create, {"device": device.pk})
    assert WorkOrder.objects.filter(device=device, kind=K.SERVICE).count() == 1
    order = WorkOrder.objects.get(device=device, kind=K.SERVICE)
    assert order.due_on == device.next_service_on or order.due_on is not None
    # Once it has an order, the device leaves the list of service falling due.
    text = client.get(reverse("logistics:work_orders")).content.decode()
    assert "Register a service work order" not in text
    work_order_start(work_order_id=order.pk, by=technician)


def test_the_service_order_is_for_technicians_only(
    client: Client, rx: Any, ordinary: Patient, rollator: Article, central: StockLocation
) -> None:
    device = lent(rx, ordinary, rollator, central)
    logged_in(client, rx)
    response = client.post(reverse("logistics:work_order_service_create"), {"device": device.pk})
    assert response.status_code == 403
    assert not WorkOrder.objects.exists()


def test_the_returned_list_needs_a_login(client: Client) -> None:
    response = client.get(reverse("logistics:work_orders_returned"))
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_presc_10_customer_service_reports_a_fault_from_the_patients_devices(
    client: Client,
    rx: Any,
    ordinary: Patient,
    rollator: Article,
    central: StockLocation,
    customer_service: Any,
) -> None:
    device = lent(rx, ordinary, rollator, central)
    logged_in(client, customer_service)
    # The patient is found through the gate; the devices section links the fault report.
    text = client.get(reverse("patients:detail", args=[ordinary.reference])).content.decode()
    link = f"{reverse('logistics:fault_report')}?serial={device.serial_number}"
    assert link in text
    form = client.get(link).content.decode()
    assert f'value="{device.serial_number}"' in form


def test_presc_10_a_prescriber_registers_a_repair_from_the_patients_devices_and_is_the_contact(
    client: Client,
    rx: Any,
    hidden: Patient,
    rollator: Article,
    central: StockLocation,
    technician: Any,
) -> None:
    device = lent(rx, hidden, rollator, central)
    logged_in(client, rx, stepped_up=True)
    text = client.get(reverse("patients:detail", args=[hidden.reference])).content.decode()
    link = f"{reverse('logistics:work_order_new')}?serial={device.serial_number}"
    assert link in text
    response = client.post(
        reverse("logistics:work_order_new"),
        {"kind": "repair", "serial": device.serial_number, "description": "Hjulet glappar"},
    )
    order = WorkOrder.objects.get(device=device)
    assert response["Location"] == url(order)
    assert order.prescriber == rx
    assert order.patient_id == hidden.pk
    client.logout()
    text = logged_in(client, technician).get(url(order)).content.decode()
    assert "Contact through the prescriber" in text
    assert SECRET_NAME[1] not in text


def test_a_work_order_for_a_patient_goes_through_the_gate(
    client: Client, rx: Any, ordinary: Patient, central: StockLocation
) -> None:
    other = UserFactory(username="annan", role="prescriber")
    logged_in(client, rx)
    response = client.post(
        reverse("logistics:work_order_new"),
        {"kind": "installation", "patient_reference": ordinary.reference, "description": "Ramp"},
    )
    order = WorkOrder.objects.get(patient=ordinary)
    assert response["Location"] == url(order)
    assert order.kind == K.INSTALLATION
    client.logout()
    # Neither device nor patient: an error next to the field, the typed text kept.
    logged_in(client, other)
    response = client.post(
        reverse("logistics:work_order_new"), {"kind": "installation", "description": "Ramp 2"}
    )
    assert response.status_code == 400
    assert "Ramp 2" in response.content.decode()


def test_a_prescribers_work_order_for_a_protected_patient_without_grant_is_not_found(
    client: Client, rx: Any, hidden: Patient, central: StockLocation
) -> None:
    other = UserFactory(username="annan", role="prescriber")
    logged_in(client, other)
    response = client.post(
        reverse("logistics:work_order_new"),
        {"kind": "installation", "patient_reference": hidden.reference, "description": "Ramp"},
    )
    assert response.status_code == 404
    assert not WorkOrder.objects.exists()


def test_registering_a_work_order_is_for_prescribers(
    client: Client, technician: Any, store_worker: Any, customer_service: Any
) -> None:
    for user in (technician, store_worker, customer_service):
        client.logout()
        logged_in(client, user)
        assert client.get(reverse("logistics:work_order_new")).status_code == 403
        assert client.post(reverse("logistics:work_order_new"), {}).status_code == 403


def test_a_technician_plans_a_work_order_for_themself(
    client: Client,
    rx: Any,
    ordinary: Patient,
    rollator: Article,
    central: StockLocation,
    technician: Any,
) -> None:
    order = repair(rx, ordinary, rollator, central)
    logged_in(client, technician)
    assert "Plan it for me" in client.get(url(order)).content.decode()
    client.post(url(order), {"action": "assign"})
    order.refresh_from_db()
    assert order.state == S.ASSIGNED
    assert order.technician == technician
    assert "Plan it for me" not in client.get(url(order)).content.decode()


def test_qual_2_a_technician_raises_an_incident_from_the_work_order(
    client: Client,
    rx: Any,
    ordinary: Patient,
    rollator: Article,
    central: StockLocation,
    technician: Any,
) -> None:
    """QUAL-2: the work order page leads to the incident form for its device, with the work
    order's number filled in; the author (a prescriber, who raises no incidents) has no link."""
    order = repair(rx, ordinary, rollator, central)
    raise_url = reverse("logistics:incident_raise", args=[order.device_id])
    text = logged_in(client, technician).get(url(order)).content.decode()
    assert f'href="{raise_url}?work_order={order.number}"' in text
    form = client.get(f"{raise_url}?work_order={order.number}").content.decode()
    assert f'value="{order.number}"' in form
    as_author = logged_in(client, rx).get(url(order))
    assert as_author.status_code == 200
    assert raise_url not in as_author.content.decode()
