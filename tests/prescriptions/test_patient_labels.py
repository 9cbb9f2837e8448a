"""People, not references, on the prescriber's pages: "My prescriptions", the prescription's
heading and the patient's devices page name the patient by name and personnummer first and the
internal reference second; a protected patient the prescriber may not see now is "Protected
identity" and the birth year, not even the reference (ACCESS-1, ACCESS-4); each name shown on
the list is logged as a read of the row's prescription (AUDIT-1)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from patients.models import AccessAction, AccessEntry, AccessOutcome
from protection.models import Grant
from tests.personas import logged_in
from tests.prescriptions.pages import start

pytestmark = pytest.mark.django_db

NAME = "Testa Testsson"  # the factory's name for the ordinary patient
NUMBER = "19891222-2398"
SURNAME = "Testsson"  # the protected patient is a factory patient too


def h1(content: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", content, flags=re.DOTALL)
    assert match is not None
    return match.group(1)


def test_access_1_my_prescriptions_names_the_patient_first_and_logs_each_row(
    rx_client, rx, ordinary
):
    numbers = [start(rx_client, ordinary) for _ in range(2)]
    last = AccessEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    content = rx_client.get("/prescriptions/").content.decode()
    row = content[content.index(numbers[0]) :]
    assert row.index(NAME) < row.index(NUMBER) < row.index(ordinary.reference)
    read = AccessEntry.objects.filter(pk__gt=last, action=AccessAction.READ)
    assert sorted(read.values_list("object_type", "object_id", "patient_id", "outcome")) == sorted(
        ("prescription", number, ordinary.pk, AccessOutcome.ALLOWED) for number in numbers
    )


def test_access_4_my_prescriptions_masks_a_protected_patient_until_the_password_is_confirmed(
    client: Client, rx, protected_patient
):
    number = start(logged_in(client, rx, stepped_up=True), protected_patient)
    shown = client.get("/prescriptions/").content.decode()
    assert SURNAME in shown
    client.logout()
    masked = logged_in(client, rx).get("/prescriptions/").content.decode()
    assert number in masked
    assert SURNAME not in masked
    assert protected_patient.reference not in masked
    assert f"Protected identity</strong>, born {protected_patient.birth_year}" in masked


def test_access_1_the_prescription_and_the_devices_page_are_headed_by_the_patient(
    rx_client, ordinary
):
    number = start(rx_client, ordinary)
    heading = h1(rx_client.get(f"/prescriptions/{number}/").content.decode())
    assert number in heading
    assert heading.index(NAME) < heading.index(NUMBER) < heading.index(ordinary.reference)
    devices = rx_client.get(f"/prescriptions/patients/{ordinary.reference}/").content.decode()
    heading = h1(devices)
    assert heading.index(NAME) < heading.index(ordinary.reference)
    assert heading.endswith(": devices and prescriptions")


def test_access_1_the_patient_page_is_headed_by_name_or_by_the_masked_label(
    client: Client, rx, ordinary, protected_patient
):
    logged_in(client, rx)
    heading = h1(client.get(f"/patients/{ordinary.reference}/").content.decode())
    assert heading.index(NAME) < heading.index(NUMBER) < heading.index(ordinary.reference)
    Grant.objects.filter(user=rx).update(ends_at=timezone.now())
    masked = h1(client.get(f"/patients/{protected_patient.reference}/").content.decode())
    assert "Protected identity" in masked
    assert str(protected_patient.birth_year) in masked
    assert protected_patient.reference not in masked
