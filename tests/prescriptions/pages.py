"""The prescriber's pages driven through the test client: start a draft, add a line, read the
page, book an activity, send a registration."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from patients.models import Patient
from prescriptions.models import ConsultationActivity, Prescription, PrescriptionState
from tests.prescriptions.conftest import article
from tests.prescriptions.leaks import AGREEMENT


def start(client: Client, patient: Patient) -> str:
    """Start a draft through the page; the prescription number from the redirect."""
    response = client.post(f"/prescriptions/patients/{patient.reference}/new/")
    assert response.status_code == 302, response.content[:500]
    match = re.fullmatch(r"/prescriptions/(F-[0-9A-Z]{8})/", response["Location"])
    assert match, response["Location"]
    return match.group(1)


def add(client: Client, number: str, article_id: int, **extra: Any) -> Any:
    return client.post(f"/prescriptions/{number}/lines/", {"article": article_id, **extra})


def submit(client: Client, number: str, need: str = "Går osäkert inomhus") -> Any:
    """ "Submit the prescription" as the page sends it: the need with it (it is required)."""
    return client.post(f"/prescriptions/{number}/submit/", {"need": need, "urgency": "normal"})


def page(client: Client, number: str) -> str:
    response = client.get(f"/prescriptions/{number}/")
    assert response.status_code == 200
    return response.content.decode()


def activities_url(patient: Patient, activity: ConsultationActivity | None = None) -> str:
    base = f"/prescriptions/patients/{patient.reference}/activities/"
    return f"{base}{activity.pk}/book/" if activity else base


# PRESC-7: what a booking records besides its time.
BOOKING = {
    "place": "Hjälpmedelscentrum Lund, rum 4",
    "service": "Utprovning av rullstol",
    "work_order_number": "AO-2026-0042",
    "phone": "046-123 45 67",
    "consultant": "Konsulent Berg",
}


def book(
    client: Client,
    patient: Patient,
    activity: ConsultationActivity,
    when: str,
    **fields: str,
) -> Any:
    data = {**BOOKING, **fields, "booked_for": when}
    return client.post(
        activities_url(patient, activity),
        {f"activity-{activity.pk}-{name}": value for name, value in data.items()},
    )


def in_an_hour() -> str:
    return timezone.localtime(timezone.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")


def diabetes() -> Any:
    return article("300", area_code="diabetes", iso9999="")


def awaiting_registration(client: Client, patient: Patient) -> str:
    number = start(client, patient)
    assert add(client, number, diabetes().pk).status_code == 302
    assert submit(client, number).status_code == 302
    assert (
        Prescription.objects.get(reference=number).state == PrescriptionState.AWAITING_REGISTRATION
    )
    return number


def staff(user: Any) -> Any:
    user.is_staff = True
    user.save()
    return user


def record_agreement(client: Client, patient: Patient) -> Any:
    return client.post(f"/prescriptions/patients/{patient.reference}/special-delivery/", AGREEMENT)
