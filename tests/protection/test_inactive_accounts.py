"""STAFF-2: accounts nobody uses are told, then deactivated by the daily maintenance, and their
grants end with them (ACCESS-5); the deactivation is an account change on record (ACCESS-10).
Identity numbers are Skatteverket test numbers (IDENT-4)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone, translation
from guardian.shortcuts import get_perms

from patients.models import Notification
from protection import tasks
from protection.models import AccountEvent, AccountEventKind, Grant, InactivityNotice
from protection.services.inactivity import months_later
from tests.factories import UnitFactory, UserFactory
from tests.personas import give_grant, protected_identity_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_messages():
    with translation.override("en"):
        yield


@pytest.fixture
def unit():
    return UnitFactory(name="Hjälpmedel Syd")


@pytest.fixture
def manager(unit):
    return UserFactory(
        username="maja", first_name="Maja", last_name="Chef", role="unit_manager", unit=unit
    )


def silent_user(unit: Any, *, months: int, username: str = "sven") -> Any:
    """A prescriber who last logged in ``months`` months (and a day) ago."""
    user = UserFactory(
        username=username, first_name="Sven", last_name="Tyst", role="prescriber", unit=unit
    )
    last = months_later(timezone.now(), -months) - timedelta(days=1)
    get_user_model().objects.filter(pk=user.pk).update(last_login=last, date_joined=last)
    return get_user_model().objects.get(pk=user.pk)


def notice_moved_back(user: Any, *, days: int) -> None:
    """The notice as if it went out ``days`` ago."""
    InactivityNotice.objects.filter(user=user).update(
        notified_at=timezone.now() - timedelta(days=days)
    )


def test_staff_2_unused_account_is_told_first_then_deactivated_and_its_grants_end(
    unit, manager
) -> None:
    user = silent_user(unit, months=13)
    identity = protected_identity_create()
    grant = give_grant(user, identity)

    first = tasks.daily_protection_maintenance()

    # Overdue when first seen: told, but not yet deactivated, so the user can still log in.
    assert first["accounts_told"] == 1
    assert first["accounts_deactivated"] == 0
    user.refresh_from_db()
    assert user.is_active
    notice = InactivityNotice.objects.get(user=user)
    assert notice.deactivates_on == timezone.localdate() + timedelta(days=14)
    (own,) = Notification.objects.filter(user=user)
    (managers,) = Notification.objects.filter(user=manager)
    assert notice.deactivates_on.isoformat() in own.subject
    assert notice.deactivates_on.isoformat() in managers.subject
    # LEAK-2: subjects name nobody; the manager learns whose account in the body.
    for subject in (own.subject, managers.subject):
        for personal in ("Sven", "Tyst", "sven"):
            assert personal not in subject
    assert "sven" in managers.body

    notice_moved_back(user, days=14)
    second = tasks.daily_protection_maintenance()

    assert second["accounts_deactivated"] == 1
    assert second["accounts_told"] == 0
    user.refresh_from_db()
    assert not user.is_active
    grant.refresh_from_db()
    assert grant.ended_at is not None
    assert grant.end_reason == "user deactivated"
    # The permission the gate asks for is gone with the grant.
    assert get_perms(user, identity.patient) == []
    # ACCESS-10: the change of status is recorded, made by nobody logged in (the product).
    event = AccountEvent.objects.filter(subject=user, kind=AccountEventKind.STATUS).latest("pk")
    assert event.actor_id is None

    # Safe twice: a second run deactivates nothing, tells nobody and ends nothing again.
    third = tasks.daily_protection_maintenance()
    assert third["accounts_deactivated"] == 0
    assert third["accounts_told"] == 0
    assert Notification.objects.filter(user__in=[user, manager]).count() == 2
    assert Grant.objects.get(pk=grant.pk).ended_at == grant.ended_at


def test_staff_2_not_deactivated_before_the_notice_period_has_passed(unit, manager) -> None:
    user = silent_user(unit, months=13)
    tasks.daily_protection_maintenance()
    notice_moved_back(user, days=13)

    assert tasks.daily_protection_maintenance()["accounts_deactivated"] == 0
    user.refresh_from_db()
    assert user.is_active


def test_staff_2_account_in_use_is_left_alone(unit, manager) -> None:
    user = silent_user(unit, months=10)

    counts = tasks.daily_protection_maintenance()

    assert counts["accounts_told"] == 0
    assert counts["accounts_deactivated"] == 0
    assert not InactivityNotice.objects.filter(user=user).exists()


def test_staff_2_told_the_notice_period_before_the_limit(settings, unit, manager) -> None:
    """A daily run tells the user the notice period before the limit, and names the day."""
    settings.STAFF_INACTIVE_NOTICE_DAYS = 14
    user = UserFactory(username="snart", role="prescriber", unit=unit)
    last = months_later(timezone.now() + timedelta(days=14), -12) - timedelta(minutes=1)
    get_user_model().objects.filter(pk=user.pk).update(last_login=last)

    assert tasks.daily_protection_maintenance()["accounts_told"] == 1
    notice = InactivityNotice.objects.get(user=user)
    assert notice.deactivates_on == timezone.localdate(months_later(last, 12))
    # A day later than that the account would not have been told yet.
    InactivityNotice.objects.all().delete()
    get_user_model().objects.filter(pk=user.pk).update(last_login=last + timedelta(days=1))
    assert tasks.daily_protection_maintenance()["accounts_told"] == 0


def test_staff_2_the_region_sets_the_months(settings, unit, manager) -> None:
    settings.STAFF_INACTIVE_MONTHS = 6
    user = silent_user(unit, months=7)
    tasks.daily_protection_maintenance()
    notice_moved_back(user, days=14)

    assert tasks.daily_protection_maintenance()["accounts_deactivated"] == 1
    user.refresh_from_db()
    assert not user.is_active


def test_staff_2_logging_in_after_the_notice_keeps_the_account(unit, manager) -> None:
    user = silent_user(unit, months=13)
    tasks.daily_protection_maintenance()
    notice_moved_back(user, days=14)
    get_user_model().objects.filter(pk=user.pk).update(last_login=timezone.now())

    assert tasks.daily_protection_maintenance()["accounts_deactivated"] == 0
    user.refresh_from_db()
    assert user.is_active


def test_staff_2_falling_silent_again_brings_a_new_notice(unit, manager) -> None:
    user = silent_user(unit, months=13)
    tasks.daily_protection_maintenance()
    # The user logged in once, long ago, after the first notice, then never again.
    again = months_later(timezone.now(), -13) + timedelta(days=5)
    get_user_model().objects.filter(pk=user.pk).update(last_login=again)

    assert tasks.daily_protection_maintenance()["accounts_told"] == 1
    assert InactivityNotice.objects.filter(user=user).count() == 2


def test_staff_2_an_account_never_logged_in_to_counts_from_its_creation(unit, manager) -> None:
    user = UserFactory(username="ny", role="prescriber", unit=unit)
    created = months_later(timezone.now(), -13)
    get_user_model().objects.filter(pk=user.pk).update(last_login=None, date_joined=created)

    assert tasks.daily_protection_maintenance()["accounts_told"] == 1
    assert InactivityNotice.objects.get(user=user).unused_since == created


def test_staff_2_months_later_keeps_the_end_of_the_month() -> None:
    moment = datetime(2026, 8, 31, 12, 0, tzinfo=timezone.get_current_timezone())
    assert months_later(moment, -6).date().isoformat() == "2026-02-28"
    assert months_later(moment, 6).date().isoformat() == "2027-02-28"
    assert months_later(moment, -24).date().isoformat() == "2024-08-31"
