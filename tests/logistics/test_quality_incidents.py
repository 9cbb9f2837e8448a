"""QUAL-2: a medical-device incident raised from a device's card keeps the device as evidence
(not reconditioned, lent again or scrapped) until it is closed, in the service and in the
database; its report to the manufacturer and Läkemedelsverket names the device and what
happened, never the patient, and the product records when it was sent to each."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone, translation

from logistics.models import (
    Device,
    DeviceStatus,
    Incident,
    IncidentState,
    PickItem,
    PickItemState,
    WorkOrderKind,
)
from logistics.services.errors import StateNotAllowed
from logistics.services.picking import item_pick, waves_create
from logistics.services.quality import incident_close, incident_raise
from logistics.services.state import device_move
from logistics.services.workorders import work_order_create
from tests.factories import UserFactory
from tests.logistics.conftest import approved
from tests.logistics.devices_helpers import lent
from tests.logistics.factories import DeviceFactory
from tests.logistics.picking_setup import allocated_order, area_all_week, stocked
from tests.personas import logged_in
from tests.prescriptions.leaks import leaks

pytestmark = pytest.mark.django_db


@pytest.fixture
def technician() -> Any:
    return UserFactory(username="tekniker", role="technician")


def _raise(device: Device, by: Any) -> Incident:
    return incident_raise(
        by=by,
        device_id=device.pk,
        occurred_on=timezone.localdate(),
        description="Bromsen släppte i nedförsbacke.",
    )


def test_qual_2_an_incident_is_raised_from_the_device_card_or_a_work_order(
    client: Client, technician, rx, hidden, rollator, central
):
    device = lent(rx, hidden, rollator, central)
    work_order = work_order_create(kind=WorkOrderKind.REPAIR, by=technician, device_id=device.pk)
    logged_in(client, technician)
    card = client.get(f"/logistics/devices/{device.pk}/").content.decode()
    raise_url = f"/logistics/devices/{device.pk}/incident/"
    assert f'href="{raise_url}"' in card
    form = client.get(raise_url)
    assert form.status_code == 200
    assert leaks(form.content.decode()) == []
    # From the work order: its number comes along, prefilled.
    from_order = client.get(f"{raise_url}?work_order={work_order.number}").content.decode()
    assert f'value="{work_order.number}"' in from_order
    wrong = client.post(
        raise_url,
        {
            "occurred_on": timezone.localdate().isoformat(),
            "description": "Bromsen släppte.",
            "work_order_number": "A-NOSUCH00",
        },
    )
    assert wrong.status_code == 400
    assert 'href="#id_work_order_number">Work order number: ' in wrong.content.decode()
    response = client.post(
        raise_url,
        {
            "occurred_on": timezone.localdate().isoformat(),
            "description": "Bromsen släppte i nedförsbacke.",
            "work_order_number": work_order.number.lower(),
        },
    )
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert (incident.device, incident.state, incident.work_order) == (
        device,
        IncidentState.OPEN,
        work_order,
    )
    card = client.get(f"/logistics/devices/{device.pk}/").content.decode()
    assert f"Kept as evidence of incident {incident.number}" in card
    assert f"Incident {incident.number}: kept as evidence" in card  # the device's history
    # A second incident on the same device leads to the open one.
    again = client.get(raise_url)
    assert again.status_code == 302
    assert again["Location"] == f"/logistics/incidents/{incident.pk}/"


def test_qual_2_a_date_ahead_or_a_description_naming_the_patient_is_refused(
    client: Client, technician, rx, hidden, rollator, central
):
    device = lent(rx, hidden, rollator, central)
    logged_in(client, technician)
    url = f"/logistics/devices/{device.pk}/incident/"
    ahead = (timezone.localdate() + datetime.timedelta(days=2)).isoformat()
    response = client.post(url, {"occurred_on": ahead, "description": "Bromsen släppte."})
    assert response.status_code == 400
    assert 'href="#id_occurred_on">Date of the event: ' in response.content.decode()
    assert "Bromsen släppte." in response.content.decode()
    named = client.post(
        url,
        {"occurred_on": timezone.localdate().isoformat(), "description": "Hemlig föll"},
    )
    assert named.status_code == 400
    assert not Incident.objects.exists()


@translation.override("en")
def test_qual_2_the_evidence_is_not_reissued_reconditioned_or_scrapped(technician, rollator):
    device = DeviceFactory(article=rollator)
    _raise(device, technician)
    for to_state in (DeviceStatus.ALLOCATED, DeviceStatus.SCRAPPED, DeviceStatus.IN_USE_AT_UNIT):
        device.refresh_from_db()
        with (
            pytest.raises(StateNotAllowed, match="kept as evidence of an open incident"),
            transaction.atomic(),
        ):
            device_move(device=device, to_state=to_state, by=technician)
    device.refresh_from_db()
    assert device.status == DeviceStatus.IN_STOCK
    # Brought into the workshop for the investigation: allowed; back to stock (reconditioned)
    # or scrapped from there: refused.
    with transaction.atomic():
        device_move(device=device, to_state=DeviceStatus.IN_WORKSHOP, by=technician)
    for to_state in (DeviceStatus.IN_STOCK, DeviceStatus.SCRAPPED, DeviceStatus.ON_LOAN):
        device.refresh_from_db()
        with pytest.raises(StateNotAllowed), transaction.atomic():
            device_move(device=device, to_state=to_state, by=technician)


def test_qual_2_the_database_refuses_the_move_too(technician, rollator):
    device = DeviceFactory(article=rollator)
    _raise(device, technician)
    with pytest.raises(IntegrityError, match="QUAL-2"), transaction.atomic():
        Device.objects.filter(pk=device.pk).update(status=DeviceStatus.SCRAPPED)
    with transaction.atomic():
        Device.objects.filter(pk=device.pk).update(status=DeviceStatus.IN_WORKSHOP)
    with pytest.raises(IntegrityError, match="QUAL-2"), transaction.atomic():
        Device.objects.filter(pk=device.pk).update(status=DeviceStatus.IN_STOCK)


@translation.override("en")
def test_qual_2_closing_releases_the_device(technician, customer_service, rollator):
    device = DeviceFactory(article=rollator)
    incident = _raise(device, technician)
    with transaction.atomic():
        device_move(device=device, to_state=DeviceStatus.IN_WORKSHOP, by=technician)
    incident_close(by=customer_service, incident_id=incident.pk, conclusion="Bromsvajern bytt.")
    device.refresh_from_db()
    with transaction.atomic():
        device_move(device=device, to_state=DeviceStatus.SCRAPPED, by=technician)
    device.refresh_from_db()
    assert device.status == DeviceStatus.SCRAPPED
    assert device.events.filter(note=f"Incident {incident.number} closed: released").exists()


def test_qual_2_the_report_names_the_device_never_the_patient_and_the_sending_is_recorded(
    client: Client, technician, customer_service, rx, hidden, rollator, central
):
    device = lent(rx, hidden, rollator, central)
    incident = _raise(device, technician)
    logged_in(client, customer_service)
    report = client.get(f"/logistics/incidents/{incident.pk}/report/")
    assert report.status_code == 200
    content = report.content.decode()
    for shown in (
        device.serial_number,
        rollator.article_number,
        rollator.name,
        rollator.agreement.supplier.name,
        "Bromsen släppte i nedförsbacke.",
        timezone.localdate().isoformat(),
    ):
        assert shown in content
    assert leaks(content) == []
    assert hidden.reference not in content
    assert str(hidden.birth_year) not in content
    url = f"/logistics/incidents/{incident.pk}/"
    page = client.get(url).content.decode()
    assert leaks(page) == []
    assert hidden.reference not in page
    assert client.post(url, {"action": "manufacturer"}).status_code == 302
    assert client.post(url, {"action": "agency"}).status_code == 302
    incident.refresh_from_db()
    assert incident.sent_to_manufacturer_at is not None
    assert incident.sent_to_agency_at is not None
    notes = list(incident.transitions.values_list("note", flat=True))
    assert notes[1:] == ["Report sent to the manufacturer", "Report sent to Läkemedelsverket"]
    # Once to each: a second record is refused.
    client.post(url, {"action": "agency"})
    assert incident.transitions.count() == 3
    refused = client.post(url, {"action": "close", "conclusion": ""})
    assert refused.status_code == 400
    assert client.post(url, {"action": "close", "conclusion": "Utrett."}).status_code == 302
    incident.refresh_from_db()
    assert incident.state == IncidentState.CLOSED


def test_qual_2_the_open_incidents_list_pins_its_queries(
    client: Client, technician, customer_service, rollator, django_assert_num_queries
):
    _raise(DeviceFactory(article=rollator), technician)
    logged_in(client, customer_service)
    client.get("/logistics/incidents/")
    with django_assert_num_queries(INCIDENT_LIST_QUERIES):
        assert client.get("/logistics/incidents/").status_code == 200
    for _ in range(3):
        _raise(DeviceFactory(article=rollator), technician)
    with django_assert_num_queries(INCIDENT_LIST_QUERIES):
        content = client.get("/logistics/incidents/").content.decode()
    assert content.count("/logistics/incidents/") >= 4


INCIDENT_LIST_QUERIES = 5


def test_qual_2_raising_and_handling_are_denied_to_others(
    client: Client, store_worker, technician, rx, rollator
):
    device = DeviceFactory(article=rollator)
    incident = _raise(device, technician)
    logged_in(client, store_worker)  # logistics staff read the card, raise nothing
    assert client.get(f"/logistics/devices/{device.pk}/incident/").status_code == 403
    assert client.get("/logistics/incidents/").status_code == 403
    assert client.get(f"/logistics/incidents/{incident.pk}/").status_code == 403
    assert client.get(f"/logistics/incidents/{incident.pk}/report/").status_code == 403
    logged_in(client, rx)
    assert client.get(f"/logistics/incidents/{incident.pk}/report/").status_code == 403
    # A technician reads the incident but does not close it.
    logged_in(client, technician)
    assert client.get(f"/logistics/incidents/{incident.pk}/").status_code == 200
    closing = {"action": "close", "conclusion": "Klart."}
    assert client.post(f"/logistics/incidents/{incident.pk}/", closing).status_code == 403
    assert client.get("/logistics/incidents/999999/").status_code == 404
    assert client.get("/logistics/devices/999999/incident/").status_code == 404
    incident.refresh_from_db()
    assert incident.state == IncidentState.OPEN


@translation.override("en")
def test_qual_2_a_picker_scanning_the_evidence_is_refused(
    technician, store_worker, rx, ordinary, central, rollator, pads
):
    area_all_week()
    stocked(rollator, central, 2)
    stocked(pads, central, 5)
    evidence = DeviceFactory(article=rollator, location=central)
    allocated_order(approved(rx, ordinary, rollator, pads), central, rollator, pads)
    _raise(evidence, technician)
    monday = datetime.date(2026, 12, 7)
    wave = waves_create(store_id=central.pk, delivery_on=monday, by=store_worker, today=monday)
    item = PickItem.objects.filter(wave=wave.waves[0], line__article=rollator).get()
    with pytest.raises(StateNotAllowed, match="kept as evidence of an open incident"):
        item_pick(
            wave_id=item.wave_id, item_id=item.pk, by=store_worker, serial=evidence.serial_number
        )
    evidence.refresh_from_db()
    assert evidence.status == DeviceStatus.IN_STOCK
    assert PickItem.objects.get(pk=item.pk).state == PickItemState.TO_PICK
