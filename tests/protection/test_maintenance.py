"""The daily maintenance: local protections lapse (PROT-6), reminders go out once, lapsed grants
and grants of deactivated users end (ACCESS-2, ACCESS-5), and the gate refuses them before the
job has run. Identity numbers are Skatteverket test numbers (IDENT-4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone, translation
from guardian.shortcuts import get_perms

from patients.models import AccessEntry, Notification
from protection import tasks
from protection.gate import Decision, decide
from protection.models import Grant, GrantReminder, GrantRequest, LocalProtection
from protection.services import local, reminders
from tests.factories import PatientIdentityFactory, UnitFactory, UserFactory
from tests.personas import (
    ORDINARY_NUMBER,
    ctx_for,
    give_grant,
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

OTHER_NUMBER = "198912242388"

PERSONAL = (
    "Karin",
    "Nilsson",
    "Hemlig",
    "Gömdasson",
    "Gömdavägen",
    ORDINARY_NUMBER,
    ORDINARY_NUMBER[2:],
    "198912232389",
    "8912232389",
)


@pytest.fixture
def unit():
    return UnitFactory(name="Hjälpmedel Syd")


@pytest.fixture
def manager(unit):
    return UserFactory(username="maja", role="unit_manager", unit=unit)


@pytest.fixture
def nurse(unit):
    return UserFactory(username="nurse", role="prescriber", unit=unit)


@pytest.fixture
def ordinary():
    return ordinary_identity_create()


def decided(manager, patient, *, ends_in_days: int) -> LocalProtection:
    """A local protection decided through the service, then moved in time: its period is shifted
    so that it ends ``ends_in_days`` from today (negative: in the past)."""
    protection = local.local_protection_decide(
        ctx=ctx_for(manager),
        patient=patient,
        unit_id=manager.staff_profile.unit_id,
        reason="Hot mot patienten i väntrummet",
        ends_on=today() + timedelta(days=30),
    )
    ends_on = today() + timedelta(days=ends_in_days)
    LocalProtection.objects.filter(pk=protection.pk).update(
        starts_on=ends_on - timedelta(days=30), ends_on=ends_on
    )
    return protection


def assert_no_personal_data() -> None:
    """LEAK-2: subjects and bodies carry case numbers and internal references only."""
    for subject, body in Notification.objects.values_list("subject", "body"):
        assert not any(secret in subject or secret in body for secret in PERSONAL)


# --- PROT-6 ------------------------------------------------------------------------------------


def test_prot_6_local_protection_lapses_after_its_end_date_not_before(manager, ordinary):
    last_day_today = decided(manager, ordinary.patient, ends_in_days=0)
    assert local.local_protections_lapse() == 0
    assert reloaded(ordinary.patient).is_protected  # protected through its whole last day
    LocalProtection.objects.filter(pk=last_day_today.pk).update(ends_on=today() - timedelta(days=1))
    assert local.local_protections_lapse() == 1
    patient = reloaded(ordinary.patient)
    assert (patient.local_protection, patient.local_protection_until) == (False, None)
    assert not patient.is_protected
    ended = LocalProtection.objects.get(pk=last_day_today.pk)
    assert (ended.ended_by, ended.end_reason) == (None, "expired")
    assert ended.ended_at is not None
    system_entry = AccessEntry.objects.filter(object_type="local_protection", user=None).get()
    assert system_entry.patient_protected  # the entry concerns a protected patient (AUDIT-1)
    assert local.local_protections_lapse() == 0  # a second run finds nothing


def test_prot_6_lapse_keeps_protection_from_another_decision_in_force(manager, ordinary):
    decided(manager, ordinary.patient, ends_in_days=-1)
    other = UserFactory(username="olle", role="unit_manager", unit=UnitFactory())
    decided(other, ordinary.patient, ends_in_days=5)
    local.local_protections_lapse()
    patient = reloaded(ordinary.patient)
    assert (patient.local_protection, patient.local_protection_until) == (
        True,
        today() + timedelta(days=5),
    )


def test_prot_6_deciding_manager_is_reminded_once(manager, ordinary, settings):
    settings.PROTECTION_LOCAL_REMINDER_DAYS = 14
    soon = decided(manager, ordinary.patient, ends_in_days=14)
    later = decided(
        manager,
        PatientIdentityFactory(personal_identity_number=OTHER_NUMBER).patient,
        ends_in_days=15,
    )
    assert reminders.local_protections_remind() == 1
    assert reminders.local_protections_remind() == 0
    subjects = list(Notification.objects.filter(user=manager).values_list("subject", flat=True))
    ends_on = (today() + timedelta(days=14)).isoformat()
    assert subjects == [
        f"Local protection for patient {ordinary.patient.reference} ends on {ends_on}"
    ]
    assert LocalProtection.objects.get(pk=soon.pk).reminded_at is not None
    assert LocalProtection.objects.get(pk=later.pk).reminded_at is None
    assert_no_personal_data()


def test_prot_6_a_departed_managers_reminder_goes_to_the_units_managers(manager, unit, ordinary):
    decided(manager, ordinary.patient, ends_in_days=3)
    successor = UserFactory(username="ny-chef", role="unit_manager", unit=unit)
    get_user_model().objects.filter(pk=manager.pk).update(is_active=False)
    assert reminders.local_protections_remind() == 1
    assert Notification.objects.filter(user=successor).count() == 1
    assert Notification.objects.filter(user=manager).count() == 0


# --- ACCESS-2 / ACCESS-5 --------------------------------------------------------------------------


def test_access_2_and_5_the_gate_refuses_before_the_job_and_the_job_ends_the_grants(
    protected, nurse, unit
):
    expired = give_grant(nurse, protected, days=-1, started_days_ago=10)
    leaver = UserFactory(username="slutat", role="prescriber", unit=unit)
    left_behind = give_grant(leaver, protected, days=30)
    # Deactivated outside the product's own service (an account closed in the directory).
    get_user_model().objects.filter(pk=leaver.pk).update(is_active=False)
    leaver.refresh_from_db()
    patient = reloaded(protected.patient)
    # The gate refuses both before any clean-up has run.
    assert decide(ctx_for(nurse, stepped_up=True), patient, protected) is Decision.MASKED
    assert decide(ctx_for(leaver, stepped_up=True), patient, protected) is Decision.MASKED
    counts = tasks.daily_protection_maintenance()
    assert counts["grants_ended"] == 2
    assert {g.pk: g.end_reason for g in Grant.objects.all()} == {
        expired.pk: "expired",
        left_behind.pk: "user deactivated",
    }
    assert get_perms(nurse, patient) == []
    assert get_perms(leaver, patient) == []
    assert tasks.daily_protection_maintenance()["grants_ended"] == 0


def test_access_2_a_grant_in_force_still_opens_after_the_job(protected, nurse):
    give_grant(nurse, protected, days=30)
    tasks.daily_protection_maintenance()
    assert Grant.objects.get().ended_at is None
    assert decide(ctx_for(nurse, stepped_up=True), protected.patient, protected) is Decision.FULL


def test_access_5_holder_and_requesting_manager_are_reminded_once_before_a_grant_ends(
    protected, nurse, manager, unit
):
    request = GrantRequest.objects.create(
        patient=protected.patient,
        unit=unit,
        requested_by=manager,
        case_reference="ÄR-2026-0042",
        starts_on=today() - timedelta(days=30),
        ends_on=today() + timedelta(days=10),
        reason="Förskrivning av rullstol",
        status="granted",
    )
    ending = give_grant(nurse, protected, days=10)
    Grant.objects.filter(pk=ending.pk).update(request=request)
    far_holder = UserFactory(username="lang", role="prescriber", unit=unit)
    give_grant(far_holder, protected, days=20)
    assert reminders.grants_remind_before_end() == 1
    assert reminders.grants_remind_before_end() == 0
    for user in (nurse, manager):
        (subject,) = Notification.objects.filter(user=user).values_list("subject", flat=True)
        assert subject.startswith("Access for case ÄR-2026-0042 ends at ")
    assert Notification.objects.filter(user=far_holder).count() == 0
    assert GrantReminder.objects.get().grant_id == ending.pk
    assert_no_personal_data()


def test_access_2_a_grant_dated_ahead_is_not_reminded_before_it_starts(protected, nurse):
    """ACCESS-2: the reminder is for a grant in force; one that starts tomorrow and ends
    within the reminder period is reminded of once it has started, not before."""
    grant = give_grant(nurse, protected, days=5, started_days_ago=-1)
    assert reminders.grants_remind_before_end() == 0
    Grant.objects.filter(pk=grant.pk).update(starts_at=timezone.now() - timedelta(minutes=1))
    assert reminders.grants_remind_before_end() == 1


def test_prot_6_daily_task_runs_every_part_and_reports_counts_only(manager, ordinary, protected):
    decided(manager, ordinary.patient, ends_in_days=-1)
    decided(
        manager,
        PatientIdentityFactory(personal_identity_number=OTHER_NUMBER).patient,
        ends_in_days=2,
    )
    give_grant(UserFactory(username="p1", role="prescriber"), protected, days=5)
    assert tasks.daily_protection_maintenance() == {
        "accounts_deactivated": 0,
        "accounts_told": 0,
        "grants_ended": 0,
        "local_protections_ended": 1,
        "local_protection_reminders": 1,
        "grant_reminders": 1,
    }
    assert_no_personal_data()
