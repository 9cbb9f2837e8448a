"""ACCESS-10: the superuser's side door. An administrator's change to an account is logged and
highlighted in the log review, and a password set by someone other than the user suspends the
user's grants and emergency access, in the gate and in row-level security alike, until the user
has set their own password and a protection administrator has confirmed.
"""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client, override_settings
from django.utils import translation

from patients.models import StaffProfile
from patients.services import roles_sync
from protection.gate import Decision, decide
from protection.models import AccountEvent, AccountEventKind, AccountSuspension, EmergencyAccess
from protection.services import ProtectionError
from protection.services.accounts import account_suspension_lift
from protection.services.emergency import emergency_access_open
from tests.factories import UnitFactory, UserFactory
from tests.personas import (
    ctx_for,
    give_grant,
    logged_in,
    protected_identity_create,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """The services' messages are matched in English; a request's language ends with the
    request (config/middleware.py), so without this they come out in the project's Swedish."""
    with translation.override("en"):
        yield


PASSWORD = "pw-for-tests-only"
NEW_PASSWORD = "Ny-lösen-7391-kaffe"
REVIEW_URL = "/protection/review/"


@pytest.fixture
def superuser() -> Any:
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def protection_admin() -> Any:
    return UserFactory(username="skyddsadmin", role="protection_admin")


@pytest.fixture
def holder_world() -> tuple[Any, Any]:
    """A prescriber holding a grant in force for the protected patient."""
    identity = protected_identity_create()
    holder = UserFactory(username="holder", role="prescriber")
    give_grant(holder, identity)
    return holder, identity


def admin_sets_password(superuser: Any, user: Any) -> None:
    client = logged_in(Client(), superuser)
    response = client.post(
        f"/admin/auth/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def visible_to(user: Any, patient_id: int) -> bool:
    """Row-level security's own answer for this user (the database's function)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('hjm.context', '', true)")
        cursor.execute("SELECT set_config('hjm.user_id', %s, true)", [str(user.pk)])
        cursor.execute("SELECT hjm_identity_visible(%s)", [patient_id])
        (visible,) = cursor.fetchone()
        cursor.execute("SELECT set_config('hjm.context', 'system', true)")
    return bool(visible)


def confirm(client: Client, suspension: AccountSuspension) -> Any:
    return client.post(f"/protection/review/accounts/{suspension.pk}/confirm/")


def test_access_10_a_password_set_by_an_administrator_suspends_the_grant_in_the_gate_and_rls(
    superuser, holder_world
):
    holder, identity = holder_world
    assert decide(ctx_for(holder, stepped_up=True), identity.patient, identity) is Decision.FULL
    assert visible_to(holder, identity.patient.pk)

    admin_sets_password(superuser, holder)

    assert decide(ctx_for(holder, stepped_up=True), identity.patient, identity) is (Decision.MASKED)
    assert not visible_to(holder, identity.patient.pk)
    event = AccountEvent.objects.filter(kind=AccountEventKind.PASSWORD_BY_OTHER).latest("pk")
    assert (event.subject_id, event.actor_id) == (holder.pk, superuser.pk)
    assert NEW_PASSWORD not in str(event.detail)


def test_access_10_the_suspension_stops_break_the_glass_and_an_open_emergency_access(
    superuser, holder_world
):
    """The side door of the issue: set a prescriber's password, log in as them, break the
    glass. A suspended user can neither open an emergency access nor use one already open."""
    _, identity = holder_world
    prescriber = UserFactory(username="akut", role="prescriber")
    emergency_access_open(
        ctx=ctx_for(prescriber), patient=identity.patient, reason="Akut larm, patient medvetslös"
    )
    assert decide(ctx_for(prescriber, stepped_up=True), identity.patient, identity) is (
        Decision.FULL
    )

    admin_sets_password(superuser, prescriber)

    assert decide(ctx_for(prescriber, stepped_up=True), identity.patient, identity) is (
        Decision.MASKED
    )
    assert not visible_to(prescriber, identity.patient.pk)
    with pytest.raises(ProtectionError):
        emergency_access_open(
            ctx=ctx_for(prescriber),
            patient=identity.patient,
            reason="Akut larm igen, patient medvetslös",
        )
    assert EmergencyAccess.objects.filter(user=prescriber).count() == 1


def test_access_10_an_account_an_administrator_creates_with_a_password_is_suspended_and_shown(
    superuser, protection_admin
):
    client = logged_in(Client(), superuser)
    response = client.post(
        "/admin/auth/user/add/",
        {
            "username": "nykomling",
            "usable_password": "true",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = UserFactory._meta.model.objects.get(username="nykomling")
    created.groups.add(Group.objects.get(name="prescriber"))

    assert AccountSuspension.objects.filter(user=created, lifted_at__isnull=True).exists()
    kinds = set(AccountEvent.objects.filter(subject=created).values_list("kind", flat=True))
    assert {AccountEventKind.CREATED, AccountEventKind.PASSWORD_BY_OTHER} <= kinds
    assert AccountEventKind.GROUPS in kinds

    page = logged_in(Client(), protection_admin).get(REVIEW_URL).content.decode()
    assert "nykomling" in page
    assert 'class="aksel-table__data-cell account-change"' in page


def test_access_10_own_password_then_a_protection_administrators_confirmation_lift_it(
    superuser, holder_world, protection_admin
):
    holder, identity = holder_world
    admin_sets_password(superuser, holder)
    suspension = AccountSuspension.objects.get(user=holder, lifted_at__isnull=True)
    admin_client = logged_in(Client(), protection_admin)

    # Not before the user has set their own password.
    confirm(admin_client, suspension)
    suspension.refresh_from_db()
    assert suspension.lifted_at is None

    holder.refresh_from_db()  # the session carries a digest of the new password
    holder_client = logged_in(Client(), holder)
    response = holder_client.post(
        "/accounts/password_change/",
        {
            "old_password": NEW_PASSWORD,
            "new_password1": PASSWORD + "-x9",
            "new_password2": PASSWORD + "-x9",
        },
    )
    assert response.status_code == 302
    suspension.refresh_from_db()
    assert suspension.own_password_at is not None
    # The user's own password alone does not lift it: someone may have logged in as them.
    assert decide(ctx_for(holder, stepped_up=True), identity.patient, identity) is (Decision.MASKED)

    response = confirm(admin_client, suspension)
    assert response.status_code == 302
    suspension.refresh_from_db()
    assert suspension.lifted_by_id == protection_admin.pk
    assert decide(ctx_for(holder, stepped_up=True), identity.patient, identity) is Decision.FULL
    assert visible_to(holder, identity.patient.pk)


def test_access_10_nobody_confirms_their_own_suspension_and_only_a_protection_admin_may(
    superuser, protection_admin
):
    manager = UserFactory(username="chef", role="unit_manager")
    admin_sets_password(superuser, protection_admin)
    suspension = AccountSuspension.objects.get(user=protection_admin)
    AccountSuspension.objects.filter(pk=suspension.pk).update(own_password_at=suspension.started_at)

    assert confirm(logged_in(Client(), protection_admin), suspension).status_code == 302
    assert confirm(logged_in(Client(), manager), suspension).status_code == 403
    assert confirm(logged_in(Client(), superuser), suspension).status_code == 403
    suspension.refresh_from_db()
    assert suspension.lifted_at is None


def test_access_10_the_changepassword_command_counts_as_someone_else(holder_world):
    holder, identity = holder_world
    with mock.patch("getpass.getpass", return_value=NEW_PASSWORD):
        call_command("changepassword", "holder", stdout=StringIO())
    assert AccountSuspension.objects.filter(user=holder, lifted_at__isnull=True).exists()
    assert decide(ctx_for(holder, stepped_up=True), identity.patient, identity) is (Decision.MASKED)


@override_settings(
    PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    ]
)
def test_access_10_a_password_hash_upgrade_at_login_is_no_password_change(holder_world):
    """Django re-hashes an old hash when the user logs in: the same password, no change."""
    holder, _ = holder_world
    old_hash = make_password(PASSWORD, hasher="pbkdf2_sha1")
    type(holder).objects.filter(pk=holder.pk).update(password=old_hash)
    before = AccountEvent.objects.count()

    response = Client().post("/accounts/login/", {"username": "holder", "password": PASSWORD})

    assert response.status_code == 302
    holder.refresh_from_db()
    assert holder.password.startswith("md5$")
    assert AccountEvent.objects.count() == before
    assert not AccountSuspension.objects.filter(user=holder).exists()


def test_access_10_groups_permissions_and_unit_changes_are_recorded_both_ways(superuser):
    user = UserFactory(username="flyttad")
    roles_sync()
    before = AccountEvent.objects.count()
    manager_group = Group.objects.get(name="unit_manager")

    user.groups.add(manager_group)
    manager_group.user_set.remove(user)
    user.user_permissions.add(Permission.objects.get(codename="view_grant"))
    profile = StaffProfile.objects.get(user=user)
    profile.unit = UnitFactory.create(name="Ny enhet")
    profile.save()
    user.is_superuser = True
    user.save()

    events = list(AccountEvent.objects.order_by("pk")[before:])
    assert [event.kind for event in events] == [
        AccountEventKind.GROUPS,
        AccountEventKind.GROUPS,
        AccountEventKind.PERMISSIONS,
        AccountEventKind.UNIT,
        AccountEventKind.STATUS,
    ]
    assert all(event.subject_id == user.pk for event in events)
    assert "unit_manager" in events[0].detail
    assert "Ny enhet" in events[3].detail


def test_access_10_a_login_records_nothing():
    user = UserFactory(username="vanlig")
    before = AccountEvent.objects.count()
    client = Client()
    assert (
        client.post("/accounts/login/", {"username": "vanlig", "password": PASSWORD}).status_code
        == 302
    )
    assert AccountEvent.objects.count() == before
    assert not AccountSuspension.objects.filter(user=user).exists()


def test_access_10_account_events_are_append_only_for_the_application():
    UserFactory(username="spårad")
    event = AccountEvent.objects.filter(subject__username="spårad").first()
    assert event is not None
    for statement in (
        "UPDATE protection_accountevent SET detail = 'x' WHERE id = %s",
        "DELETE FROM protection_accountevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [event.pk])


def test_access_10_a_unit_manager_sees_the_account_changes_of_their_own_unit_only():
    unit, other = UnitFactory(), UnitFactory()
    manager = UserFactory(username="chef", role="unit_manager", unit=unit)
    UserFactory(username="egen", role="prescriber", unit=unit)
    UserFactory(username="annan", role="prescriber", unit=other)
    page = logged_in(Client(), manager).get(REVIEW_URL).content.decode()
    assert '<td class="aksel-table__data-cell">egen</td>' in page
    assert '<td class="aksel-table__data-cell">annan</td>' not in page


def test_access_10_the_second_person_is_neither_the_one_who_set_the_password_nor_suspended(
    superuser, holder_world
):
    """The one who set a grant holder's password cannot lift the suspension alone: not by
    confirming it themselves as a protection administrator, nor through a fresh protection
    administrator account whose password they set (that account is suspended too)."""
    holder, identity = holder_world
    setter = UserFactory(username="byggare", role="protection_admin", is_staff=True)
    setter.user_permissions.add(Permission.objects.get(codename="change_user"))
    admin_sets_password(setter, holder)
    puppet = UserFactory(username="docka", role="protection_admin")
    admin_sets_password(superuser, puppet)
    suspension = AccountSuspension.objects.get(user=holder, lifted_at__isnull=True)
    assert suspension.event.actor_id == setter.pk
    AccountSuspension.objects.filter(pk=suspension.pk).update(own_password_at=suspension.started_at)

    with pytest.raises(ProtectionError, match="set this password yourself"):
        account_suspension_lift(ctx=ctx_for(setter), suspension_id=suspension.pk)
    with pytest.raises(ProtectionError, match="Your own account is suspended"):
        account_suspension_lift(ctx=ctx_for(puppet), suspension_id=suspension.pk)
    suspension.refresh_from_db()
    assert suspension.lifted_at is None
    assert decide(ctx_for(holder, stepped_up=True), identity.patient, identity) is (Decision.MASKED)
