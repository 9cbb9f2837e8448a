"""Local and reservnummer protection: deciding, renewing and ending (PROT-1, PROT-6), their
pages, and who may use them. Identity numbers are Skatteverket test numbers (IDENT-4)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from patients.models import AccessAction, AccessEntry
from protection.gate import Decision, decide
from protection.models import LocalProtection, ReserveNumberProtection
from protection.services import ProtectionError, local, reserve_number
from tests.factories import PatientIdentityFactory, UnitFactory, UserFactory
from tests.personas import (
    ORDINARY_NUMBER,
    ctx_for,
    logged_in,
    ordinary_identity_create,
    reloaded,
    today,
)


@pytest.fixture(autouse=True)
def _english_messages():
    """Messages are compared in English; the Swedish catalogue is exercised by the pages."""
    with translation.override("en"):
        yield


pytestmark = pytest.mark.django_db

# Inera's national reservnummer format (IDENT-2): never a personnummer.
RESERVE_NUMBER = "22950606FH22"
SECRETS = ("Karin", "Nilsson", "Provgatan", "19891222-2398", ORDINARY_NUMBER, ORDINARY_NUMBER[2:])


@pytest.fixture
def unit():
    return UnitFactory(name="Hjälpmedel Syd")


@pytest.fixture
def manager(unit):
    return UserFactory(username="maja", role="unit_manager", unit=unit)


@pytest.fixture
def other_manager():
    return UserFactory(username="olle", role="unit_manager", unit=UnitFactory(name="Rehab Norr"))


@pytest.fixture
def ordinary():
    return ordinary_identity_create()


def decide_local(user, patient, *, days: int = 30, reason: str = "Hot mot patienten i väntrummet"):
    return local.local_protection_decide(
        ctx=ctx_for(user),
        patient=patient,
        unit_id=user.staff_profile.unit_id,
        reason=reason,
        ends_on=today() + timedelta(days=days),
    )


# --- PROT-1: local protection ----------------------------------------------------------------


def test_prot_1_local_protection_protects_and_the_gate_masks(client, manager, ordinary, prescriber):
    logged_in(client, manager)
    ends_on = today() + timedelta(days=60)
    response = client.post(
        f"/protection/patients/{ordinary.patient.reference}/local/",
        {"ends_on": ends_on.isoformat(), "reason": "Hot från anhörig, anmält till polisen"},
    )
    assert response.status_code == 302
    patient = reloaded(ordinary.patient)
    assert (patient.local_protection, patient.local_protection_until) == (True, ends_on)
    assert patient.is_protected
    protection = LocalProtection.objects.get()
    assert (protection.decided_by, protection.unit_id) == (manager, manager.staff_profile.unit_id)
    entry = AccessEntry.objects.get(object_type="local_protection")
    assert (entry.action, entry.patient_id, entry.patient_protected) == (
        AccessAction.CHANGE,
        patient.pk,
        True,
    )
    # The gate masks the patient for someone without a grant, by page and by service.
    logged_in(client, prescriber)
    content = client.post("/", {"number": ORDINARY_NUMBER}).content.decode()
    assert "Protected identity" in content
    assert not any(secret in content for secret in SECRETS)
    assert decide(ctx_for(prescriber), patient, ordinary) is Decision.MASKED


def test_prot_1_local_protection_lasts_at_most_three_months(manager, ordinary):
    start = today()
    limit = local.add_months(start, 3)
    with pytest.raises(ProtectionError, match="at most three months") as refused:
        decide_local(manager, ordinary.patient, days=(limit - start).days + 1)
    assert limit.isoformat() in str(refused.value)  # the message names the last allowed day
    assert not reloaded(ordinary.patient).is_protected
    decide_local(manager, ordinary.patient, days=(limit - start).days)
    assert reloaded(ordinary.patient).local_protection_until == limit


def test_prot_1_three_months_from_a_month_end_is_the_last_day_of_the_month():
    assert local.add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert local.add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert local.add_months(date(2026, 1, 15), 3) == date(2026, 4, 15)


def test_prot_1_local_protection_needs_a_reason_and_a_date_not_in_the_past(manager, ordinary):
    with pytest.raises(ProtectionError, match=r"^Reason:"):
        decide_local(manager, ordinary.patient, reason="  ")
    with pytest.raises(ProtectionError, match=r"^Until: the end date is before"):
        decide_local(manager, ordinary.patient, days=-1)
    assert LocalProtection.objects.count() == 0


def test_prot_1_a_unit_renews_its_local_protection_rather_than_deciding_twice(manager, ordinary):
    decide_local(manager, ordinary.patient, days=10)
    with pytest.raises(ProtectionError, match="renew that decision instead"):
        decide_local(manager, ordinary.patient, days=20)
    assert LocalProtection.objects.count() == 1


def test_prot_1_the_database_refuses_an_end_before_the_start(manager, ordinary):
    with pytest.raises(IntegrityError), transaction.atomic():
        LocalProtection.objects.create(
            patient=ordinary.patient,
            unit_id=manager.staff_profile.unit_id,
            decided_by=manager,
            reason="x",
            starts_on=today(),
            ends_on=today() - timedelta(days=1),
        )


def test_prot_1_only_a_unit_manager_of_the_unit_decides(manager, other_manager, ordinary):
    nurse = UserFactory(username="nisse", role="prescriber", unit=manager.staff_profile.unit)
    with pytest.raises(ProtectionError, match="Only a unit manager"):
        decide_local(nurse, ordinary.patient)
    with pytest.raises(ProtectionError, match=r"^Unit:"):
        local.local_protection_decide(
            ctx=ctx_for(other_manager),
            patient=ordinary.patient,
            unit_id=manager.staff_profile.unit_id,
            reason="Hot mot patienten",
            ends_on=today() + timedelta(days=10),
        )
    assert not reloaded(ordinary.patient).is_protected


def test_prot_1_several_local_protections_protect_until_the_latest_ends(
    manager, other_manager, ordinary
):
    first = decide_local(manager, ordinary.patient, days=20)
    second = decide_local(other_manager, ordinary.patient, days=50)
    assert reloaded(ordinary.patient).local_protection_until == today() + timedelta(days=50)
    local.local_protection_end(ctx=ctx_for(other_manager), protection_id=second.pk, reason="")
    patient = reloaded(ordinary.patient)
    assert (patient.local_protection, patient.local_protection_until) == (
        True,
        today() + timedelta(days=20),
    )
    local.local_protection_end(ctx=ctx_for(manager), protection_id=first.pk, reason="Klart")
    patient = reloaded(ordinary.patient)
    assert (patient.is_protected, patient.local_protection_until) == (False, None)
    ended = LocalProtection.objects.get(pk=first.pk)
    assert (ended.ended_by, ended.end_reason) == (manager, "Klart")
    # Ending twice changes nothing (idempotent).
    local.local_protection_end(ctx=ctx_for(manager), protection_id=first.pk, reason="igen")
    assert LocalProtection.objects.get(pk=first.pk).end_reason == "Klart"


def test_prot_6_renewal_extends_the_end_and_asks_for_a_new_reminder(manager, ordinary):
    protection = decide_local(manager, ordinary.patient, days=10)
    LocalProtection.objects.filter(pk=protection.pk).update(reminded_at=timezone.now())
    with pytest.raises(ProtectionError, match=r"^Until: a renewal ends after"):
        local.local_protection_renew(
            ctx=ctx_for(manager), protection_id=protection.pk, ends_on=today() + timedelta(days=5)
        )
    new_end = today() + timedelta(days=80)
    local.local_protection_renew(ctx=ctx_for(manager), protection_id=protection.pk, ends_on=new_end)
    renewed = LocalProtection.objects.get(pk=protection.pk)
    assert (renewed.ends_on, renewed.reminded_at) == (new_end, None)
    assert reloaded(ordinary.patient).local_protection_until == new_end
    too_far = local.add_months(today(), 3) + timedelta(days=1)
    with pytest.raises(ProtectionError, match="at most three months"):
        local.local_protection_renew(
            ctx=ctx_for(manager), protection_id=protection.pk, ends_on=too_far
        )


def test_prot_6_an_ended_local_protection_cannot_be_renewed(manager, ordinary):
    protection = decide_local(manager, ordinary.patient, days=10)
    local.local_protection_end(ctx=ctx_for(manager), protection_id=protection.pk, reason="")
    with pytest.raises(ProtectionError, match="has ended"):
        local.local_protection_renew(
            ctx=ctx_for(manager), protection_id=protection.pk, ends_on=today() + timedelta(days=20)
        )
    assert not reloaded(ordinary.patient).is_protected


# --- PROT-1: reservnummer protection -----------------------------------------------------------


def test_prot_1_reservnummer_protection_requires_a_reservnummer(manager, ordinary):
    with pytest.raises(ProtectionError) as refused:
        reserve_number.reserve_number_protection_decide(
            ctx=ctx_for(manager),
            patient=ordinary.patient,
            unit_id=manager.staff_profile.unit_id,
            reason="Hot från en anställd i vården",
        )
    assert str(refused.value) == (
        "Reservnummer: the patient has no reservnummer; register one first."
    )
    assert not reloaded(ordinary.patient).is_protected
    assert ReserveNumberProtection.objects.count() == 0


def test_prot_1_reservnummer_protection_protects_until_the_unit_ends_it(client, manager, ordinary):
    ordinary.reserve_number = RESERVE_NUMBER
    ordinary.reserve_number_format = "national"
    ordinary.save()
    logged_in(client, manager)
    page = client.get(f"/protection/patients/{ordinary.patient.reference}/reserve-number/")
    assert RESERVE_NUMBER not in page.content.decode()  # never shown, only checked
    response = client.post(
        f"/protection/patients/{ordinary.patient.reference}/reserve-number/",
        {"reason": "Hot från en anställd i vården"},
    )
    assert response.status_code == 302
    assert reloaded(ordinary.patient).reserve_number_protection
    assert reloaded(ordinary.patient).is_protected
    protection = ReserveNumberProtection.objects.get()
    with pytest.raises(ProtectionError, match="already has reservnummer protection"):
        reserve_number.reserve_number_protection_decide(
            ctx=ctx_for(manager),
            patient=ordinary.patient,
            unit_id=manager.staff_profile.unit_id,
            reason="Hot från en anställd i vården",
        )
    listing = client.get("/protection/unit-protections/").content.decode()
    assert ordinary.patient.reference in listing
    assert not any(secret in listing for secret in (*SECRETS, RESERVE_NUMBER))
    client.post(f"/protection/reserve-number/{protection.pk}/end/")
    patient = reloaded(ordinary.patient)
    assert (patient.reserve_number_protection, patient.is_protected) == (False, False)
    assert AccessEntry.objects.filter(object_type="reserve_number_protection").count() == 2


def test_prot_1_another_units_manager_cannot_end_reservnummer_protection(
    client, manager, other_manager, ordinary
):
    ordinary.reserve_number = RESERVE_NUMBER
    ordinary.save()
    protection = reserve_number.reserve_number_protection_decide(
        ctx=ctx_for(manager),
        patient=ordinary.patient,
        unit_id=manager.staff_profile.unit_id,
        reason="Hot från en anställd i vården",
    )
    logged_in(client, other_manager)
    assert client.post(f"/protection/reserve-number/{protection.pk}/end/").status_code == 404
    with pytest.raises(ProtectionError, match=r"^Unit:"):
        reserve_number.reserve_number_protection_end(
            ctx=ctx_for(other_manager), protection_id=protection.pk
        )
    assert reloaded(ordinary.patient).reserve_number_protection


# --- the unit's page --------------------------------------------------------------------------


def test_prot_6_unit_page_lists_local_protections_with_ends_and_renews(client, manager, ordinary):
    protection = decide_local(manager, ordinary.patient, days=10)
    logged_in(client, manager)
    content = client.get("/protection/unit-protections/").content.decode()
    assert ordinary.patient.reference in content
    assert (today() + timedelta(days=10)).isoformat() in content
    assert "1989" in content  # birth year
    assert not any(secret in content for secret in SECRETS)
    new_end = today() + timedelta(days=40)
    client.post(f"/protection/local/{protection.pk}/renew/", {"ends_on": new_end.isoformat()})
    assert LocalProtection.objects.get(pk=protection.pk).ends_on == new_end
    too_far = today() + timedelta(days=200)
    response = client.post(
        f"/protection/local/{protection.pk}/renew/", {"ends_on": too_far.isoformat()}, follow=True
    )
    assert "at most three months" in response.content.decode()
    client.post(f"/protection/local/{protection.pk}/end/", {"reason": "Skatteverket har beslutat"})
    assert not reloaded(ordinary.patient).is_protected


def test_prot_1_unit_page_sends_a_reference_to_the_right_decision_page(client, manager, ordinary):
    logged_in(client, manager)
    reference = ordinary.patient.reference
    response = client.get(
        "/protection/unit-protections/", {"reference": reference, "kind": "local"}
    )
    assert response["Location"] == f"/protection/patients/{reference}/local/"
    response = client.get(
        "/protection/unit-protections/", {"reference": reference.lower(), "kind": "reserve"}
    )
    assert response["Location"] == f"/protection/patients/{reference}/reserve-number/"
    response = client.get("/protection/unit-protections/", {"reference": "P-NOSUCHONE0"})
    assert "Patient reference: No patient has that reference." in response.content.decode()


def test_prot_1_decision_page_shows_the_patient_as_the_gate_does(client, manager, ordinary):
    """Not yet protected, the patient is named to the manager like to any member of staff, and
    the reading logged (AUDIT-1); the page is addressed by the internal reference."""
    logged_in(client, manager)
    response = client.get(f"/protection/patients/{ordinary.patient.reference}/local/")
    content = response.content.decode()
    assert response.status_code == 200
    assert ordinary.patient.reference in content
    assert "Karin Nilsson" in content
    assert AccessEntry.objects.filter(
        user=manager, patient=ordinary.patient, object_type="unit_protection"
    ).exists()
    refused = client.post(
        f"/protection/patients/{ordinary.patient.reference}/local/",
        {"ends_on": (today() + timedelta(days=200)).isoformat(), "reason": "Hot mot patienten"},
    )
    assert "Until: local protection lasts at most three months" in refused.content.decode()
    assert not reloaded(ordinary.patient).is_protected


def test_prot_6_a_manager_cannot_renew_or_end_another_units_local_protection(
    client, manager, other_manager, ordinary
):
    protection = decide_local(manager, ordinary.patient, days=10)
    logged_in(client, other_manager)
    renew = client.post(
        f"/protection/local/{protection.pk}/renew/",
        {"ends_on": (today() + timedelta(days=20)).isoformat()},
    )
    assert renew.status_code == 404
    assert client.post(f"/protection/local/{protection.pk}/end/").status_code == 404
    assert (
        ordinary.patient.reference
        not in client.get("/protection/unit-protections/").content.decode()
    )
    with pytest.raises(ProtectionError, match=r"^Unit:"):
        local.local_protection_end(
            ctx=ctx_for(other_manager), protection_id=protection.pk, reason=""
        )
    assert reloaded(ordinary.patient).local_protection


def test_prot_6_unit_page_pins_its_query_count(client, manager, unit):
    def add_both() -> None:
        identity = PatientIdentityFactory()
        decide_local(manager, identity.patient)
        ReserveNumberProtection.objects.create(
            patient=identity.patient, unit=unit, decided_by=manager, reason="Hot i vården"
        )

    add_both()
    logged_in(client, manager)
    client.get("/protection/unit-protections/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/protection/unit-protections/")
    few = len(queries)
    add_both()
    add_both()
    with CaptureQueriesContext(connection) as queries:
        client.get("/protection/unit-protections/")
    assert len(queries) == few


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/protection/unit-protections/"),
        ("get", "/protection/patients/{ref}/local/"),
        ("post", "/protection/patients/{ref}/local/"),
        ("post", "/protection/local/{pk}/renew/"),
        ("post", "/protection/local/{pk}/end/"),
        ("get", "/protection/patients/{ref}/reserve-number/"),
        ("post", "/protection/patients/{ref}/reserve-number/"),
        ("post", "/protection/reserve-number/{pk}/end/"),
    ],
)
@pytest.mark.parametrize("role", ["prescriber", "protection_admin", "logistics"])
def test_prot_1_kind_pages_are_denied_to_other_roles(client, manager, ordinary, role, method, path):
    protection = decide_local(manager, ordinary.patient)
    logged_in(client, UserFactory(username=f"x-{role}", role=role))
    url = path.format(ref=ordinary.patient.reference, pk=protection.pk)
    response = getattr(client, method)(url, {"ends_on": "2026-01-01", "reason": "x" * 20})
    assert response.status_code == 403
    assert LocalProtection.objects.get().ended_at is None
    assert ReserveNumberProtection.objects.count() == 0


def test_prot_1_kind_pages_send_anonymous_visitors_to_log_in(client, ordinary):
    response = client.get(f"/protection/patients/{ordinary.patient.reference}/local/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_leak_1_a_local_protection_reason_carries_no_personnummer(manager, unit, ordinary):
    """The reason is shown on the unit's page to managers who may hold no grant."""
    with pytest.raises(ProtectionError, match="do not write the patient's personnummer"):
        local.local_protection_decide(
            ctx=ctx_for(manager),
            patient=ordinary.patient,
            unit_id=unit.pk,
            reason="Hot mot 19891222-2398 från närstående",
            ends_on=today() + timedelta(days=30),
        )
    assert not reloaded(ordinary.patient).local_protection
