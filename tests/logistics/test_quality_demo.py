"""The README's deviation step on the seeded demo, in the README's Swedish words (QUAL-1,
QUAL-2, PRESC-7): `logistics` reported Maria Ek's late delivery without the person, customer
service finds it under "Avvikelser att hantera" with nothing of her, `prescriber2` (her grant
holder) attaches it from her page; a returned rollator is kept as evidence of an open incident;
Karl Lindqvist has a booked consultation."""

from __future__ import annotations

import os
import re
from io import StringIO
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from logistics.demo import EVIDENCE_SERIAL, MARIA
from logistics.models import Deviation, Device, Incident, IncidentState
from patients.models import Patient
from prescriptions.models import ConsultationBooking
from protection.rls import PatientIdForNumber
from tests.personas import logged_in

pytestmark = pytest.mark.django_db

WORDS = re.compile(r"\b(Maria|Ek)\b")


def _as(client: Client, username: str, *, stepped_up: bool = False) -> Client:
    logged_in(client, get_user_model().objects.get(username=username))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
    if stepped_up:
        # The demo's password (seed_demo's default), confirmed on the step-up page.
        assert client.post("/protection/step-up/", {"password": "demo"}).status_code == 302
    return client


def test_qual_1_and_qual_2_the_demo_story_in_the_readmes_words(shared_dir, client: Client):
    with mock.patch.dict(os.environ, {"DEMO_PASSWORD": "demo"}):
        call_command("seed_demo", "--shared", str(shared_dir), stdout=StringIO())
    deviation = Deviation.objects.get()
    assert (deviation.patient_id, deviation.without_person) == (None, True)
    _as(client, "customer_service")
    start = client.get("/start/").content.decode()
    assert "Avvikelser att hantera" in start
    assert "Rapportera en avvikelse" in start
    listing = client.get("/logistics/deviations/").content.decode()
    assert deviation.number in listing
    assert "Utan person (ej person)" in listing
    assert WORDS.findall(listing) == []
    assert "19420119" not in listing
    # Her grant holder attaches it from her page.
    maria = Patient.objects.get(pk=PatientIdForNumber(MARIA))
    _as(client, "prescriber2", stepped_up=True)
    page = client.get(f"/patients/{maria.reference}/").content.decode()
    assert "Koppla en avvikelse som rapporterats utan person" in page
    attach = client.get(f"/logistics/patients/{maria.reference}/deviations/attach/")
    assert "Avvikelsenummer" in attach.content.decode()
    assert "Koppla avvikelsen" in attach.content.decode()
    client.post(
        f"/logistics/patients/{maria.reference}/deviations/attach/",
        {"deviation_number": deviation.number},
    )
    deviation.refresh_from_db()
    assert deviation.patient_id == maria.pk
    # QUAL-2: the rollator in the workshop is evidence of an open incident.
    incident = Incident.objects.get()
    assert incident.state == IncidentState.OPEN
    assert incident.device == Device.objects.get(serial_number=EVIDENCE_SERIAL)
    _as(client, "customer_service")
    incidents = client.get("/logistics/incidents/").content.decode()
    assert "Öppna tillbud" in incidents
    assert EVIDENCE_SERIAL in incidents
    card = client.get(f"/logistics/devices/{incident.device_id}/").content.decode()
    assert f"Behålls som bevis för tillbud {incident.number}" in card
    # PRESC-7: Karl Lindqvist's consultation is booked.
    assert (
        ConsultationBooking.objects.filter(activity__patient__reference__isnull=False).count() == 1
    )
