"""PRESC-6's data migration: a prescription still waiting for the old signature before approval
moves on to approved, with its history row and the release the logistics floor turns into an
order."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from prescriptions.models import OrderRelease, Prescription, PrescriptionTransition
from tests.prescriptions.conftest import article
from tests.prescriptions.drafting import draft_with

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("prescriptions.migrations.0015_presc6_signature_on_work_order")


def test_presc_6_a_prescription_waiting_for_the_old_signature_moves_on(rx, ordinary):
    reference = draft_with(rx, ordinary, article())
    Prescription.objects.filter(reference=reference).update(state="awaiting_signature")
    MIGRATION.waiting_move_on(apps, SimpleNamespace(connection=connection))
    prescription = Prescription.objects.get(reference=reference)
    assert prescription.state == "approved"
    assert prescription.decided_at is not None
    moved = PrescriptionTransition.objects.get(prescription=prescription, to_state="approved")
    assert moved.from_state == "awaiting_signature"
    assert OrderRelease.objects.filter(prescription=prescription, taken_at__isnull=True).exists()
    # Run again: nothing waits any more, nothing is written twice.
    MIGRATION.waiting_move_on(apps, SimpleNamespace(connection=connection))
    assert (
        PrescriptionTransition.objects.filter(
            prescription=prescription, to_state="approved"
        ).count()
        == 1
    )
