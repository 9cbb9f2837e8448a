"""PRESC-9, DEVICE-3, DEVICE-4, KPI-3 pages: ordering a pickup from the patient page, the staff's
queue and pickup page (LEAK-5: a protected patient only as "protected identity", the unit and
the prescriber), the loss cases and the reconditioning on the device card; every route denied
to the wrong role and 404 for a missing object; pinned query counts."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from logistics.models import (
    DeviceStatus,
    LossCase,
    LossState,
    PickupOrder,
    PickupState,
    ReconditioningDecision,
)
from logistics.services.losses import loss_device_report
from logistics.services.pickups import pickup_line_collect, pickup_order_create
from patients.models import AccessEntry, PatientIdentity
from tests.factories import UserFactory
from tests.logistics.devices_helpers import lent
from tests.personas import logged_in
from tests.prescriptions.leaks import SECRET_ADDRESS, leaks

pytestmark = pytest.mark.django_db


def test_presc_9_the_prescriber_orders_a_pickup_from_the_patient_page(
    client: Client, rx, ordinary, rollator, central
) -> None:
    device = lent(rx, ordinary, rollator, central)
    logged_in(client, rx)
    page = client.get(reverse("patients:detail", args=[ordinary.reference])).content.decode()
    url = reverse("logistics:pickup_new", args=[ordinary.reference])
    assert url in page
    form = client.get(url)
    assert form.status_code == 200
    assert device.serial_number in form.content.decode()
    # Nothing chosen: the error, next to the field and in the summary.
    refused = client.post(url, {})
    assert refused.status_code == 400
    assert "Choose at least one device to pick up." in refused.content.decode()
    response = client.post(url, {"devices": [str(device.pk)]})
    assert response.status_code == 302
    order = PickupOrder.objects.get()
    assert order.channel == "prescriber"
    assert order.created_by == rx
    page = client.get(reverse("patients:detail", args=[ordinary.reference])).content.decode()
    assert order.number in page


def test_presc_9_device_4_a_lost_device_is_not_offered_for_pickup(
    client: Client, customer_service, rx, ordinary, rollator, central
) -> None:
    device = lent(rx, ordinary, rollator, central)
    loss_device_report(device_id=device.pk, unit_id=rx.staff_profile.unit_id, by=rx)
    logged_in(client, customer_service)
    url = reverse("logistics:pickup_new", args=[ordinary.reference])
    html = client.get(url).content.decode()
    assert "in the loss process" in html
    response = client.post(url, {"devices": [str(device.pk)]})
    assert response.status_code == 400
    assert not PickupOrder.objects.exists()


def test_presc_9_denied_without_the_permission_or_the_grant(
    client: Client, store_worker, customer_service, rx, hidden, rollator, central
) -> None:
    lent(rx, hidden, rollator, central)
    logged_in(client, store_worker)
    url = reverse("logistics:pickup_new", args=[hidden.reference])
    assert client.get(url).status_code == 403
    # Customer service holds no grant: the protected patient is the same 404 as none.
    logged_in(client, customer_service)
    assert client.get(url).status_code == 404
    assert client.get(reverse("logistics:pickup_new", args=["P-NOSUCH"])).status_code == 404
    assert client.post(url, {}).status_code == 404


def test_presc_9_leak_5_staff_see_a_protected_pickup_as_the_unit_and_prescriber_only(
    client: Client, store_worker, rx, hidden, rollator, central
) -> None:
    device = lent(rx, hidden, rollator, central)
    order = pickup_order_create(
        patient_id=hidden.pk, device_ids=[device.pk], channel="prescriber", by=rx
    )
    logged_in(client, store_worker)
    before = AccessEntry.objects.count()
    # No route serves the unit's postal code in this test: the order waits to be planned.
    for url in (
        reverse("logistics:pickups") + "?queue=to-plan",
        reverse("logistics:pickup", args=[order.pk]),
    ):
        html = client.get(url).content.decode()
        assert order.number in html
        assert "Protected identity" in html
        assert leaks(html) == []
        assert SECRET_ADDRESS not in html
        assert hidden.reference not in html
    html = client.get(reverse("logistics:pickup", args=[order.pk])).content.decode()
    assert rx.staff_profile.unit.name in html
    assert "contact the prescriber, never the patient" in html
    # No patient was read: nothing in the access log.
    assert AccessEntry.objects.count() == before


def test_presc_9_an_ordinary_patients_pickup_address_is_shown_and_logged(
    client: Client, store_worker, rx, ordinary, rollator, central
) -> None:
    PatientIdentity.objects.filter(patient=ordinary).update(
        registered_address={"street2": "Storgatan 1", "postal_code": "21120", "city": "MALMÖ"}
    )
    device = lent(rx, ordinary, rollator, central)
    order = pickup_order_create(
        patient_id=ordinary.pk, device_ids=[device.pk], channel="prescriber", by=rx
    )
    logged_in(client, store_worker)
    html = client.get(reverse("logistics:pickup", args=[order.pk])).content.decode()
    assert "Storgatan 1" in html
    entry = AccessEntry.objects.filter(patient=ordinary).latest("pk")
    assert entry.object_type == "delivery address"
    assert entry.object_id == order.number
    assert entry.user_id == store_worker.pk


def test_presc_9_device_4_the_driver_collects_and_reports_missing(
    client: Client, store_worker, rx, ordinary, rollator, central
) -> None:
    first = lent(rx, ordinary, rollator, central)
    second = lent(rx, ordinary, rollator, central, serial_number="SECOND-1")
    order = pickup_order_create(
        patient_id=ordinary.pk, device_ids=[first.pk, second.pk], channel="prescriber", by=rx
    )
    one, two = order.lines.order_by("pk")
    logged_in(client, store_worker)
    client.post(reverse("logistics:pickup_collect", args=[order.pk, one.pk]))
    client.post(reverse("logistics:pickup_missing", args=[order.pk, two.pk]))
    order.refresh_from_db()
    assert order.state == PickupState.DONE
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == DeviceStatus.IN_WORKSHOP
    assert second.status == DeviceStatus.LOST
    case = LossCase.objects.get(device=second)
    # The loss case: decided by BILL-4, on its page.
    html = client.get(reverse("logistics:losses")).content.decode()
    assert case.number in html
    client.post(reverse("logistics:loss_decide", args=[case.pk]))
    case.refresh_from_db()
    assert case.state in {LossState.DEBITED, LossState.WRITTEN_OFF}
    html = client.get(reverse("logistics:loss_case", args=[case.pk])).content.decode()
    with translation.override("en"):
        assert case.get_state_display().capitalize() in html
    # The device card shows the pickup, the loss case, and reconditions the collected one.
    card = client.get(reverse("logistics:device", args=[first.pk])).content.decode()
    assert order.number in card
    assert "Record the inspection" in card
    client.post(
        reverse("logistics:device_reconditioning", args=[first.pk]),
        {"inspection_passed": "yes", "store": str(central.pk)},
    )
    first.refresh_from_db()
    assert first.status == DeviceStatus.IN_STOCK
    assert ReconditioningDecision.objects.filter(device=first).exists()
    card = client.get(reverse("logistics:device", args=[second.pk])).content.decode()
    assert case.number in card


def test_device_4_kpi_3_denied_to_other_roles_and_missing_ids(client: Client, rx) -> None:
    logged_in(client, rx)
    for url in (
        reverse("logistics:pickups"),
        reverse("logistics:pickup", args=[1]),
        reverse("logistics:losses"),
        reverse("logistics:loss_case", args=[1]),
        reverse("logistics:loss_kpi"),
    ):
        assert client.get(url).status_code == 403, url
    for url in (
        reverse("logistics:pickup_collect", args=[1, 1]),
        reverse("logistics:pickup_missing", args=[1, 1]),
        reverse("logistics:loss_decide", args=[1]),
        reverse("logistics:loss_found", args=[1]),
        reverse("logistics:device_reconditioning", args=[1]),
    ):
        assert client.post(url).status_code == 403, url
    staff = UserFactory(username="lager2", role="logistics")
    logged_in(client, staff)
    for url in (
        reverse("logistics:pickup", args=[999999]),
        reverse("logistics:loss_case", args=[999999]),
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        reverse("logistics:pickup_collect", args=[999999, 1]),
        reverse("logistics:pickup_missing", args=[999999, 1]),
        reverse("logistics:loss_decide", args=[999999]),
        reverse("logistics:loss_found", args=[999999]),
        reverse("logistics:device_reconditioning", args=[999999]),
    ):
        assert client.post(url).status_code == 404, url


def test_kpi_3_losses_per_care_unit_page(
    client: Client, store_worker, rx, ordinary, rollator, central
) -> None:
    device = lent(rx, ordinary, rollator, central)
    loss_device_report(device_id=device.pk, unit_id=rx.staff_profile.unit_id, by=rx)
    logged_in(client, store_worker)
    html = client.get(reverse("logistics:loss_kpi")).content.decode()
    assert rx.staff_profile.unit.name in html
    bad = client.get(reverse("logistics:loss_kpi"), {"since": "x", "until": "y"})
    assert bad.status_code == 400
    kpi_url = reverse("logistics:loss_kpi")
    assert kpi_url in client.get(reverse("logistics:losses")).content.decode()


def test_kpi_3_customer_service_sees_loss_cases_without_the_kpi(
    client: Client, customer_service
) -> None:
    logged_in(client, customer_service)
    html = client.get(reverse("logistics:losses")).content.decode()
    assert reverse("logistics:loss_kpi") not in html
    assert client.get(reverse("logistics:loss_kpi")).status_code == 403


def test_presc_9_the_queues_pin_their_query_count(
    client: Client, store_worker, rx, ordinary, hidden, rollator, central, django_assert_num_queries
) -> None:
    for patient in (ordinary, hidden):
        device = lent(rx, patient, rollator, central, serial_number=f"Q-{patient.pk}")
        pickup_order_create(
            patient_id=patient.pk, device_ids=[device.pk], channel="prescriber", by=rx
        )
    logged_in(client, store_worker)
    url = reverse("logistics:pickups") + "?queue=to-plan"
    client.get(url)
    with django_assert_num_queries(QUEUE_QUERIES):
        response = client.get(url)
    assert len(response.context["orders"]) == 2
    url = reverse("logistics:losses")
    client.get(url)
    with django_assert_num_queries(LOSSES_QUERIES):
        client.get(url)


def test_presc_9_collecting_twice_is_refused_with_a_message(
    client: Client, store_worker, rx, ordinary, rollator, central
) -> None:
    device = lent(rx, ordinary, rollator, central)
    order = pickup_order_create(
        patient_id=ordinary.pk, device_ids=[device.pk], channel="prescriber", by=rx
    )
    line = order.lines.get()
    pickup_line_collect(line_id=line.pk, by=store_worker)
    logged_in(client, store_worker)
    response = client.post(
        reverse("logistics:pickup_collect", args=[order.pk, line.pk]), follow=True
    )
    assert "cannot become" in response.content.decode()


# Session, user, permissions and the page's own reads (counts, list).
QUEUE_QUERIES = 6
LOSSES_QUERIES = 5


def test_device_4_customer_service_reports_a_device_lost_from_the_card(
    client: Client, customer_service, rx, ordinary, rollator, central
) -> None:
    device = lent(rx, ordinary, rollator, central)
    logged_in(client, customer_service)
    card = client.get(reverse("logistics:device", args=[device.pk])).content.decode()
    assert "Report the device lost" in card
    response = client.post(reverse("logistics:device_report_lost", args=[device.pk]))
    case = LossCase.objects.get(device=device)
    assert response.status_code == 302
    assert case.unit_id == rx.staff_profile.unit_id
    device.refresh_from_db()
    assert device.status == DeviceStatus.LOST
    # Lost: not again, and a 404 for a device in a store or a missing one.
    assert client.post(reverse("logistics:device_report_lost", args=[device.pk])).status_code == 404
    assert client.post(reverse("logistics:device_report_lost", args=[999999])).status_code == 404


def test_device_4_reporting_lost_denied_to_technicians_and_prescribers(
    client: Client, rx, ordinary, rollator, central
) -> None:
    device = lent(rx, ordinary, rollator, central)
    for user in (rx, UserFactory(username="tekniker", role="technician")):
        logged_in(client, user)
        url = reverse("logistics:device_report_lost", args=[device.pk])
        assert client.post(url).status_code == 403
    assert not LossCase.objects.exists()
