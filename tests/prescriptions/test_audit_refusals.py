"""AUDIT-1: a refused patient read inside a prescribing service, or in a page's read, stays in
the access log, exactly once.

The services run in a transaction, and their refusal (not found, step-up) rolls back the gate's
denied entry with everything else. These tests need real commits (``transaction=True``): inside
the usual test transaction nothing is ever rolled back to the request's start.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from patients.models import AccessEntry, AccessOutcome, Patient
from prescriptions.models import Prescription, PrescriptionState
from prescriptions.services.drafts import prescription_draft_start
from prescriptions.services.routing import prescription_cancel
from protection.refusals import PatientNotFound, StepUpRequired
from tests.personas import ctx_for
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


def test_audit_1_step_up_refusal_in_a_selector_of_a_get_page_is_logged(
    rx: Any, protected_patient: Patient
):
    client = Client()
    client.force_login(rx)
    path = reverse("prescriptions:patient", args=[protected_patient.reference])
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('protection:step_up')}?{urlencode({'next': path})}"
    assert _denied_reads(protected_patient) == 1


def test_audit_1_masked_refusal_in_a_selector_of_a_get_page_is_logged(
    protected_patient: Patient,
):
    without_grant = PrescriberProfileFactory().user
    client = Client()
    client.force_login(without_grant)
    response = client.get(reverse("prescriptions:patient", args=[protected_patient.reference]))
    assert response.status_code == 404
    assert _denied_reads(protected_patient) == 1


def test_audit_1_a_service_called_without_a_page_keeps_its_masked_refusal(
    protected_patient: Patient,
):
    """The service's own edge (``refusals_kept`` outside its transaction) keeps the entry: no
    view is needed for it."""
    without_grant = PrescriberProfileFactory().user
    with pytest.raises(PatientNotFound):
        prescription_draft_start(
            ctx=ctx_for(without_grant), patient_reference=protected_patient.reference
        )
    assert _denied_reads(protected_patient) == 1


def test_audit_1_a_service_called_without_a_page_keeps_its_step_up_refusal(
    rx: Any, protected_patient: Patient
):
    prescription = prescription_draft_start(
        ctx=ctx_for(rx, stepped_up=True), patient_reference=protected_patient.reference
    )
    with pytest.raises(StepUpRequired):
        prescription_cancel(ctx=ctx_for(rx), reference=prescription.reference, reason="Fel artikel")
    assert _denied_reads(protected_patient) == 1
    assert Prescription.objects.get(pk=prescription.pk).state == PrescriptionState.DRAFT
