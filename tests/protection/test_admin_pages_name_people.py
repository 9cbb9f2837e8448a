"""The protection pages (grant requests and their decision, the unit's grants, held protections,
the unit's protections, the log review) name people, not references: staff by their full name,
patients as the gate shows them to the reader (``patient_labels_for_user``). A protection
administrator or a unit manager holds no grant by their role: without one the patient is
"Skyddade personuppgifter" and the birth year, and no reference (ACCESS-1); every patient
named or masked is logged (AUDIT-1); the lists cost the same queries whatever their length."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from patients.models import AccessAction, AccessEntry, AccessOutcome, Patient
from patients.services import Actor, access_entry_record
from protection.models import GrantRequest, ProtectionReview
from tests.factories import PatientIdentityFactory, UnitFactory, UserFactory
from tests.personas import give_grant, logged_in, ordinary_identity_create, today
from tests.protection.test_unit_protections import decide_local

pytestmark = pytest.mark.django_db

SECRETS = ("Hemlig", "Gömdasson", "Gömdavägen", "19891223-2389", "198912232389")
# Skatteverket's test numbers (IDENT-4) for the lists' further patients.
NUMBERS = ("189001119800", "189001129817", "189001139808", "189001149815", "189001159806")
MASKED = "Skyddade personuppgifter</strong>, född 1989"


@pytest.fixture
def unit():
    return UnitFactory(name="Hjälpmedel Syd")


@pytest.fixture
def manager(unit):
    return UserFactory(
        username="maja", first_name="Maja", last_name="Chef", role="unit_manager", unit=unit
    )


@pytest.fixture
def nurse(unit):
    return UserFactory(
        username="nils", first_name="Nils", last_name="Sköterska", role="prescriber", unit=unit
    )


@pytest.fixture
def officer():
    return UserFactory(
        username="skydd", first_name="Siv", last_name="Skyddsansvarig", role="protection_admin"
    )


def in_swedish(client: Client, user: Any, *, stepped_up: bool = False) -> Client:
    logged_in(client, user, stepped_up=stepped_up)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
    return client


def page(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def grant_request(patient: Patient, manager: Any, nurse: Any, case: str = "ÄR-2026-0042") -> Any:
    request = GrantRequest.objects.create(
        patient=patient,
        unit=manager.staff_profile.unit,
        requested_by=manager,
        case_reference=case,
        starts_on=today(),
        ends_on=today() + timedelta(days=30),
        reason="Förskrivning av rullstol",
    )
    request.staff.set([nurse])
    return request


def entries_since(last: int, user: Any) -> list[tuple[int | None, str, str]]:
    return list(
        AccessEntry.objects.filter(pk__gt=last, user=user, action=AccessAction.READ)
        .order_by("pk")
        .values_list("patient_id", "object_type", "outcome")
    )


def last_entry() -> int:
    return AccessEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_access_1_request_pages_mask_the_patient_for_an_officer_without_a_grant(
    client, manager, nurse, officer, protected
):
    request = grant_request(protected.patient, manager, nurse)
    in_swedish(client, officer, stepped_up=True)
    last = last_entry()
    listed = page(client, "/protection/requests/")
    # AUDIT-1: the masked label is logged as the gate logs a masked read.
    assert entries_since(last, officer) == [
        (protected.patient_id, "grant_request", AccessOutcome.DENIED)
    ]
    decide = page(client, f"/protection/requests/{request.pk}/")
    for content in (listed, decide):
        assert MASKED in content
        assert protected.patient.reference not in content
        assert not any(secret in content for secret in SECRETS)
    # The requester and the staff by their names, not their usernames.
    assert "Maja Chef" in decide
    assert "Nils Sköterska" in decide


def test_access_4_an_officer_holding_a_grant_reads_the_name_on_the_request_list(
    client, manager, nurse, officer, protected
):
    grant_request(protected.patient, manager, nurse)
    give_grant(officer, protected)
    in_swedish(client, officer, stepped_up=True)
    last = last_entry()
    content = page(client, "/protection/requests/")
    assert "Hemlig Gömdasson" in content
    assert entries_since(last, officer) == [
        (protected.patient_id, "grant_request", AccessOutcome.ALLOWED)
    ]


def test_audit_1_request_list_pins_its_query_count(client, manager, nurse, officer, protected):
    grant_request(protected.patient, manager, nurse)
    in_swedish(client, officer, stepped_up=True)
    page(client, "/protection/requests/")
    with CaptureQueriesContext(connection) as few:
        page(client, "/protection/requests/")
    for n, number in enumerate(NUMBERS[:3]):
        identity = PatientIdentityFactory(personal_identity_number=number)
        grant_request(identity.patient, manager, nurse, case=f"ÄR-{n}")
    with CaptureQueriesContext(connection) as many:
        page(client, "/protection/requests/")
    # The same queries whatever the number of rows: the labels cost a fixed few (the guards,
    # the grants, the patients, one INSERT into the access log).
    assert len(many) == len(few) == 10  # was 11 (issue 16)


def test_access_5_the_units_grants_name_the_staff_mask_the_patient_and_pin_the_queries(
    client, manager, nurse, protected
):
    give_grant(nurse, protected)
    in_swedish(client, manager)
    content = page(client, "/protection/grants/")
    assert "Nils Sköterska" in content
    assert MASKED in content
    assert protected.patient.reference not in content
    with CaptureQueriesContext(connection) as few:
        page(client, "/protection/grants/")
    for number in NUMBERS[:3]:
        identity = PatientIdentityFactory(personal_identity_number=number)
        identity.patient.protected_registration = True
        identity.patient.save()
        give_grant(nurse, identity)
    with CaptureQueriesContext(connection) as many:
        page(client, "/protection/grants/")
    assert len(many) == len(few) == 10  # was 11 (issue 16)


def test_prot_4_held_protections_mask_the_patient_and_name_who_decided(client, officer, protected):
    Patient.objects.filter(pk=protected.patient_id).update(protection_held=True)
    released = PatientIdentityFactory(personal_identity_number=NUMBERS[4]).patient
    ProtectionReview.objects.create(patient=released, decided_by=officer, note="Inget skyddsbehov")
    in_swedish(client, officer, stepped_up=True)
    last = last_entry()
    content = page(client, "/protection/holds/")
    assert MASKED in content
    assert not any(secret in content for secret in SECRETS)
    assert "Siv Skyddsansvarig" in content
    logged = entries_since(last, officer)
    assert (protected.patient_id, "protection_hold", AccessOutcome.DENIED) in logged
    assert (released.pk, "protection_hold", AccessOutcome.ALLOWED) in logged


def test_prot_4_held_protections_pin_their_query_count(client, officer, protected):
    Patient.objects.filter(pk=protected.patient_id).update(protection_held=True)
    in_swedish(client, officer, stepped_up=True)
    page(client, "/protection/holds/")
    with CaptureQueriesContext(connection) as few:
        page(client, "/protection/holds/")
    for number in NUMBERS[:3]:
        identity = PatientIdentityFactory(personal_identity_number=number)
        Patient.objects.filter(pk=identity.patient_id).update(protection_held=True)
    with CaptureQueriesContext(connection) as many:
        page(client, "/protection/holds/")
    assert len(many) == len(few) == 10  # was 11 (issue 16)


def test_prot_6_the_units_protections_name_who_decided_and_mask_the_patient(
    client, manager, protected
):
    karin = ordinary_identity_create()
    decide_local(manager, karin.patient)
    in_swedish(client, manager)
    last = last_entry()
    content = page(client, "/protection/unit-protections/")
    assert "Maja Chef" in content
    # Under local protection now: the manager holds no grant, so Karin is masked too.
    assert "Skyddade personuppgifter</strong>, född 1989" in content
    assert "Karin" not in content
    assert entries_since(last, manager) == [
        (karin.patient_id, "unit_protection", AccessOutcome.DENIED)
    ]


def test_audit_3_the_log_review_names_staff_and_patients_as_the_gate_allows(
    client, nurse, officer, protected
):
    karin = ordinary_identity_create()
    actor = Actor(
        user_id=nurse.pk, unit_id=nurse.staff_profile.unit_id, ip_address=None, session_ref=""
    )
    for patient in (karin.patient, protected.patient, karin.patient):
        access_entry_record(
            actor=actor, action=AccessAction.READ, outcome=AccessOutcome.ALLOWED, patient=patient
        )
    in_swedish(client, officer, stepped_up=True)
    last = last_entry()
    content = page(client, "/protection/review/")
    assert "Nils Sköterska" in content
    assert "Karin Nilsson" in content
    assert MASKED in content
    assert not any(secret in content for secret in SECRETS)
    # One entry per patient on the page, not one per log row: reading the log does not
    # multiply it.
    assert sorted(entries_since(last, officer)) == sorted(
        [
            (karin.patient_id, "access_log_review", AccessOutcome.ALLOWED),
            (protected.patient_id, "access_log_review", AccessOutcome.DENIED),
        ]
    )
