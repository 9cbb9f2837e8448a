"""Write history of the domain models (AUDIT-1 "change"): who changed what, from which page."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction

from protection.models import GrantRequest
from tests.factories import UnitFactory, UserFactory
from tests.personas import logged_in

pytestmark = pytest.mark.django_db


def events(label: str):
    return apps.get_model(label).objects.order_by("pgh_id")


def test_audit_1_a_grant_decision_is_in_the_history_with_user_and_page(client, protected):
    unit = UnitFactory()
    manager = UserFactory(username="chef", role="unit_manager", unit=unit)
    nurse = UserFactory(username="nurse", role="prescriber", unit=unit)
    admin = UserFactory(username="skydd", role="protection_admin")
    request = GrantRequest.objects.create(
        patient=protected.patient,
        unit=unit,
        requested_by=manager,
        case_reference="ÄR-9",
        starts_on="2026-11-22",
        ends_on="2026-12-22",
        reason="test",
    )
    request.staff.add(nurse)
    logged_in(client, admin)
    client.post(f"/protection/requests/{request.pk}/", {"decision": "grant", "note": "ok"})
    grant_event = events("protection.GrantEvent").get()
    assert grant_event.pgh_label == "insert"
    assert grant_event.user_id == nurse.pk
    assert grant_event.pgh_context.metadata["user"] == admin.pk
    assert grant_event.pgh_context.metadata["url"] == f"/protection/requests/{request.pk}/"
    decided = events("protection.GrantRequestEvent").filter(status="granted").get()
    assert decided.decided_by_id == admin.pk


def test_audit_4_identity_history_records_the_change_but_no_identifying_value(protected):
    protected.phone = "070-1740605"
    protected.surname = "Nyttnamn"
    protected.save()
    event = events("patients.PatientIdentityEvent").get()
    assert event.pgh_obj_id == protected.pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM patients_patientidentityevent")
        stored = " ".join(str(value) for value in cursor.fetchone())
    for value in ("Nyttnamn", "070-1740605", "198912232389", "Gömdavägen"):
        assert value not in stored


def test_audit_1_patient_protection_changes_are_in_the_history(protected):
    patient = protected.patient
    patient.local_protection = True
    patient.save()
    latest = events("patients.PatientEvent").last()
    assert latest is not None
    assert (latest.pgh_obj_id, latest.local_protection, latest.is_protected) == (
        patient.pk,
        True,
        True,
    )


@pytest.mark.parametrize("statement", ["UPDATE {t} SET pgh_label = 'x'", "DELETE FROM {t}"])
def test_audit_2_history_is_append_only(protected, statement):
    protected.patient.local_protection = True
    protected.patient.save()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement.format(t="patients_patientevent"))
