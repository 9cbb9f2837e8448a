"""The patient page's sections from higher floors (protection.registry.patient_page_sections):
on the full card only, never on the masked card, without a query storm (DEVICE-1: the devices
the patient holds, registered by the logistics floor)."""

# ruff: noqa: F811 - the fixtures of the floors above, imported for these tests

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from protection.registry import patient_page_sections, patient_page_sections_for
from tests.factories import UserFactory
from tests.logistics.conftest import central, rollator  # noqa: F401 - fixtures
from tests.logistics.devices_helpers import lent
from tests.personas import ctx_for, logged_in
from tests.prescriptions.conftest import (  # noqa: F401 - fixtures
    all_areas,
    hidden,
    ordinary,
    protected_patient,
    rx,
)
from tests.prescriptions.leaks import leaks

pytestmark = pytest.mark.django_db

HEADING = "Devices held by the patient"


def test_device_1_the_logistics_section_is_registered() -> None:
    from logistics.views.devices import DEVICES_SECTION

    assert DEVICES_SECTION in patient_page_sections


def test_device_1_a_prescriber_with_a_grant_sees_the_section_on_the_full_card(
    client: Client, rx, hidden, rollator, central
) -> None:
    device = lent(rx, hidden, rollator, central)
    logged_in(client, rx, stepped_up=True)
    html = client.get(f"/patients/{hidden.reference}/").content.decode()
    assert HEADING in html
    assert device.serial_number in html
    assert rollator.article_number in html
    # The prescriber lacks logistics.view_device: no link to the card.
    assert f"/logistics/devices/{device.pk}/" not in html


def test_device_1_the_section_is_absent_on_the_masked_card(
    client: Client, rx, hidden, rollator, central
) -> None:
    device = lent(rx, hidden, rollator, central)
    other = UserFactory(username="annan", role="prescriber")
    logged_in(client, other)
    html = client.get(f"/patients/{hidden.reference}/").content.decode()
    assert HEADING not in html
    assert device.serial_number not in html
    assert leaks(html) == []


def test_device_1_customer_service_gets_links_and_the_section_costs_no_query_storm(
    client: Client, rx, ordinary, rollator, central, django_assert_max_num_queries
) -> None:
    devices = [lent(rx, ordinary, rollator, central) for _ in range(3)]
    service = UserFactory(username="kundtjanst2", role="customer_service")
    logged_in(client, service)
    url = f"/patients/{ordinary.reference}/"
    baseline = client.get(url)
    html = baseline.content.decode()
    for device in devices:
        assert f"/logistics/devices/{device.pk}/" in html
    # Three more devices cost nothing more: one query for all of them.
    lent(rx, ordinary, rollator, central)
    lent(rx, ordinary, rollator, central)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for _ in range(3):
        lent(rx, ordinary, rollator, central)
    with CaptureQueriesContext(connection) as after:
        client.get(url)
    assert len(after) == len(before)


def test_issue_16_a_section_with_nothing_for_the_patient_reads_nothing(
    rx, ordinary, rollator, central, django_assert_num_queries
) -> None:
    # One statement asks which sections have rows; for a patient with none, that is all: the
    # sections draw their empty states (the permissions come from the request's one read).
    ctx = ctx_for(rx)
    rx.get_all_permissions()
    with django_assert_num_queries(1):
        sections = patient_page_sections_for(ctx, ordinary)
    keys = sorted(section.key for section in sections)
    # A prescriber's sections; the home-region cost only for a patient with such a charge.
    assert keys == ["logistics-deviations", "logistics-devices", "prescriptions-consumables"]
    devices = next(s for s in sections if s.key == "logistics-devices")
    assert devices.context["held"] == []
    # Devices held: the devices and their pickup lines are read, the other sections are not.
    device = lent(rx, ordinary, rollator, central)
    with django_assert_num_queries(3):
        sections = patient_page_sections_for(ctx, ordinary)
    devices = next(s for s in sections if s.key == "logistics-devices")
    assert [held.device_id for held in devices.context["held"]] == [device.pk]


def test_issue_16_a_section_not_for_the_users_role_is_not_asked(
    ordinary, django_assert_num_queries
) -> None:
    # A store worker sees neither consumables nor costs: their rows are not even asked about.
    worker = UserFactory(username="lager16", role="logistics")
    ctx = ctx_for(worker)
    worker.get_all_permissions()
    with CaptureQueriesContext(connection) as asked:
        sections = patient_page_sections_for(ctx, ordinary)
    assert sorted(s.key for s in sections) == ["logistics-deviations", "logistics-devices"]
    (probe,) = asked.captured_queries
    assert "consumable" not in probe["sql"]
    assert "charge" not in probe["sql"]
