"""AUDIT-1: a refused patient read inside a prescribing service stays in the access log.

The services run in a transaction, and their refusal (not found, step-up) rolls back the gate's
denied entry with everything else. These tests need real commits (``transaction=True``): inside
the usual test transaction nothing is ever rolled back to the request's start.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from patients.models import AccessEntry, AccessOutcome, Patient
from tests.prescriptions.factories import PrescriberProfileFactory

# serialized_rollback: the rows the migrations load (regions) come back after the flush.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _denied_reads(patient: Patient) -> int:
    return AccessEntry.objects.filter(
        patient=patient, outcome=AccessOutcome.DENIED, object_type="patient"
    ).count()


def test_audit_1_step_up_refusal_in_a_service_is_logged(rx: Any, protected_patient: Patient):
    client = Client()
    client.force_login(rx)
    response = client.post(reverse("prescriptions:start", args=[protected_patient.reference]))
    assert response.status_code == 302
    assert reverse("protection:step_up") in response["Location"]
    assert _denied_reads(protected_patient) == 1


def test_audit_1_masked_refusal_in_a_service_is_logged(protected_patient: Patient):
    without_grant = PrescriberProfileFactory().user
    client = Client()
    client.force_login(without_grant)
    response = client.post(reverse("prescriptions:start", args=[protected_patient.reference]))
    assert response.status_code == 404
    assert _denied_reads(protected_patient) == 1
