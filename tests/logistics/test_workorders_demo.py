"""The demo's work orders (issue 11, README "Work orders and the technician's day"): one of every
kind, a fault report on Eva Holm's rollator that the technician reaches through the prescriber
(PRESC-10), and the README's words on the technician's pages."""

from __future__ import annotations

from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from logistics.demo import EVA, EVA_ROLLATOR
from logistics.models import WorkOrder, WorkOrderKind, WorkOrderSource
from patients.models import Patient
from protection.rls import system_context
from tests.personas import logged_in

pytestmark = pytest.mark.django_db


def test_presc_10_the_demo_has_work_orders_of_every_kind_and_eva_holms_fault_report(
    shared_dir, client: Client
) -> None:
    call_command("seed_demo", "--shared", str(shared_dir), stdout=StringIO())
    assert set(WorkOrder.objects.values_list("kind", flat=True)) == set(WorkOrderKind.values)
    with system_context():
        eva = Patient.objects.get(identity__personal_identity_number=EVA)
    repair = WorkOrder.objects.get(device__serial_number=EVA_ROLLATOR, kind="repair")
    assert repair.patient_id == eva.pk
    assert repair.source == WorkOrderSource.FAULT_REPORT
    technician = get_user_model().objects.get(username="technician")
    logged_in(client, technician)
    # The README's words are the Swedish pages'.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
    queue = client.get(reverse("logistics:work_orders"))
    page = client.get(reverse("logistics:work_order", args=[repair.pk]))
    start = client.get("/start/").content.decode()
    assert "Verkstadens kö" in start
    assert "Anpassningar som väntar på förskrivarens signering" in start
    text = queue.content.decode()
    assert "Reparationer" in text
    assert "Kontakt via förskrivaren" in text
    assert repair.number in text
    detail = page.content.decode()
    assert "En patient \u2013 kontakt via förskrivaren" in detail
    assert "Hugo Audionom" in detail
    assert "070-123 45 67" not in detail
    assert "Påbörja arbetet" in detail
    for secret in ("Eva", "Holm", "19420226"):
        assert secret not in text
        assert secret not in detail
