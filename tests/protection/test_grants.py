"""Grant requests, decisions, review and revocation (ACCESS-2, -3, -5, -6; LEAK-2)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from guardian.shortcuts import get_perms

from patients.models import AccessEntry, Notification
from protection.models import Grant, GrantRequest, GrantRequestTransition
from protection.services import ProtectionError
from protection.services.grants import grant_request_create, grant_request_decide
from tests.factories import PatientRelationFactory, UnitFactory, UserFactory
from tests.personas import ctx_for, give_grant, logged_in, masked_token

pytestmark = pytest.mark.django_db

SECRETS = ("Hemlig", "Gömdasson", "Gömdavägen", "19891223-2389", "198912232389", "8912232389")


@pytest.fixture
def unit():
    return UnitFactory(name="Rehab Öst")


@pytest.fixture
def manager(unit):
    return UserFactory(username="chefen", role="unit_manager", unit=unit)


@pytest.fixture
def nurse(unit):
    return UserFactory(username="nurse", role="prescriber", unit=unit)


@pytest.fixture
def admin():
    return UserFactory(username="skydd", role="protection_admin")


def request_form(staff, **overrides):
    today = timezone.localdate()
    data = {
        "staff": [u.pk for u in staff],
        "case_reference": "ÄR-2026-0042",
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=90)).isoformat(),
        "reason": "Förskrivning av rullstol",
    }
    data.update(overrides)
    return data


def make_request(client, manager, protected, staff, **overrides):
    logged_in(client, manager)
    token = masked_token(client)
    return client.post(
        "/protection/requests/new/", {"patient_token": token, **request_form(staff, **overrides)}
    )


def test_access_3_manager_requests_grant_for_named_staff(client, manager, nurse, protected, admin):
    response = make_request(client, manager, protected, [nurse])
    assert response.status_code == 302
    request = GrantRequest.objects.get()
    assert list(request.staff.all()) == [nurse]
    assert (request.status, request.case_reference) == ("requested", "ÄR-2026-0042")
    # LEAK-2: the administrators are told by case number only.
    note = admin.notifications.get()
    assert "ÄR-2026-0042" in note.subject
    assert not any(secret in note.subject + note.body for secret in SECRETS)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"case_reference": "19891223-2389"}, "the case number (such as"),
        ({"case_reference": "ärende 8912232389"}, "the case number (such as"),
        ({"ends_on": (date.today() + timedelta(days=400)).isoformat()}, "at most one year"),
        ({"ends_on": (date.today() - timedelta(days=1)).isoformat()}, "before the start date"),
    ],
)
def test_access_2_and_3_bad_requests_are_refused_with_a_reason(
    client, manager, nurse, protected, overrides, message
):
    response = make_request(client, manager, protected, [nurse], **overrides)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not GrantRequest.objects.exists()


def test_access_3_staff_list_offers_only_the_managers_unit(client, manager, nurse, protected):
    outsider = UserFactory(username="utomstaende", role="prescriber")
    logged_in(client, manager)
    page = client.post(
        "/protection/requests/new/", {"patient_token": masked_token(client)}
    ).content.decode()
    assert "nurse" in page
    assert "utomstaende" not in page
    response = make_request(client, manager, protected, [outsider])
    assert response.status_code == 200
    assert not GrantRequest.objects.exists()


def _decide(client, admin, request, decision="grant", **extra):
    logged_in(client, admin)
    return client.post(
        f"/protection/requests/{request.pk}/", {"decision": decision, "note": "ok", **extra}
    )


def test_access_3_admin_sees_holders_and_links_then_grants(
    client, manager, nurse, protected, admin
):
    make_request(client, manager, protected, [nurse])
    request = GrantRequest.objects.get()
    holder = UserFactory(username="redan", role="prescriber")
    give_grant(holder, protected)
    PatientRelationFactory(patient=protected.patient, related_identity_number="198912232397")
    logged_in(client, admin)
    page = client.get(f"/protection/requests/{request.pk}/").content.decode()
    assert "redan" in page  # who already holds a grant
    assert "M: 1" in page  # linked persons, by kind
    assert "No open cases in other units." in page
    assert not any(secret in page for secret in SECRETS)
    response = _decide(client, admin, request)
    assert response.status_code == 302
    grant = Grant.objects.get(user=nurse)
    assert grant.ends_at > timezone.now() + timedelta(days=89)
    assert "view_protected_identity" in get_perms(nurse, protected.patient)
    assert AccessEntry.objects.filter(action="grant", object_type="grant").count() == 1
    assert "ÄR-2026-0042" in manager.notifications.get().subject


def test_access_3_refusal_gives_no_access(client, manager, nurse, protected, admin):
    make_request(client, manager, protected, [nurse])
    request = GrantRequest.objects.get()
    _decide(client, admin, request, decision="refuse")
    request.refresh_from_db()
    assert request.status == "refused"
    assert not Grant.objects.exists()
    assert get_perms(nurse, protected.patient) == []


def test_access_3_a_request_is_decided_once_and_not_by_its_requester(
    client, manager, nurse, protected, admin
):
    make_request(client, manager, protected, [nurse])
    request = GrantRequest.objects.get()
    _decide(client, admin, request)
    again = _decide(client, admin, request)
    assert "already been decided" in again.content.decode()
    assert Grant.objects.count() == 1


def test_access_3_every_move_of_a_request_is_recorded(client, manager, nurse, protected, admin):
    """House style 4: created as requested, then granted once, each move a history row with
    who made it and the decision note."""
    make_request(client, manager, protected, [nurse])
    request = GrantRequest.objects.get()
    _decide(client, admin, request)
    history = list(
        GrantRequestTransition.objects.filter(request=request)
        .order_by("at", "pk")
        .values_list("from_state", "to_state", "by_id", "note")
    )
    assert history == [("", "requested", manager.pk, ""), ("requested", "granted", admin.pk, "ok")]
    request.refresh_from_db()
    assert (request.status, request.decided_by_id, request.decision_note) == (
        "granted",
        admin.pk,
        "ok",
    )


def test_access_3_a_refusal_is_recorded_and_a_second_decision_is_refused(
    manager, nurse, protected, admin
):
    """ACCESS-3: the machine's table refuses a decision on a decided request, with a message
    that says what to do instead; nothing changes and no grant is written."""
    ctx = ctx_for(manager)
    request = grant_request_create(
        ctx=ctx,
        patient=protected.patient,
        unit_id=ctx.actor.unit_id,
        staff=[nurse],
        case_reference="ÄR-2026-0042",
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + timedelta(days=30),
        reason="Förskrivning av rullstol",
    )
    grant_request_decide(ctx=ctx_for(admin), request_id=request.pk, approve=False, note="Nej")
    with (
        translation.override("en"),
        pytest.raises(ProtectionError, match=r"already been decided \(Refused\).*new request"),
    ):
        grant_request_decide(ctx=ctx_for(admin), request_id=request.pk, approve=True)
    request.refresh_from_db()
    assert request.status == "refused"
    assert not Grant.objects.exists()
    assert list(
        GrantRequestTransition.objects.filter(request=request).values_list("to_state", flat=True)
    ) == ["requested", "refused"]


def test_access_3_administrators_told_are_those_who_hold_the_role(
    client, manager, nurse, protected, admin
):
    """Who holds a permission is asked once (protection.permissions.users_with_permission), as
    holds_role_permission answers it: not a superuser for being one, not an inactive user."""
    UserFactory(username="root", is_superuser=True, is_staff=True, role="protection_admin")
    UserFactory(username="slutat", role="protection_admin", is_active=False)
    make_request(client, manager, protected, [nurse])
    told = set(
        Notification.objects.filter(subject__contains="ÄR-2026-0042").values_list(
            "user__username", flat=True
        )
    )
    assert told == {"skydd"}


def test_access_6_more_grants_than_the_limit_need_explicit_confirmation(
    client, manager, nurse, protected, admin, settings
):
    settings.PROTECTION_MAX_GRANTS_PER_PATIENT = 1
    second = UserFactory(username="nurse2", role="prescriber", unit=nurse.staff_profile.unit)
    make_request(client, manager, protected, [nurse, second])
    request = GrantRequest.objects.get()
    refused = _decide(client, admin, request)
    assert "Confirm that every one of them needs it." in refused.content.decode()
    assert not Grant.objects.exists()
    _decide(client, admin, request, confirm_excess="on")
    request.refresh_from_db()
    assert (request.status, request.excess_confirmed) == ("granted", True)
    assert Grant.objects.count() == 2


def test_access_5_review_lists_grants_per_patient_and_user_and_revokes(
    client, manager, nurse, protected
):
    grant = give_grant(nurse, protected, days=20)
    logged_in(client, manager)
    page = client.get("/protection/grants/").content.decode()
    # The manager holds no grant: the patient is masked, without the reference (ACCESS-1); the
    # nurse's account has no name, so the username stands in for it.
    assert "Protected identity</strong>, born 1989" in page
    assert protected.patient.reference not in page
    assert "nurse" in page
    assert not any(secret in page for secret in SECRETS)
    response = client.post(f"/protection/grants/{grant.pk}/end/", {"reason": "Slutat"})
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.ended_at is not None
    assert get_perms(nurse, protected.patient) == []


def test_access_5_a_grant_still_to_come_is_listed_to_be_revoked(client, manager, nurse, protected):
    """ACCESS-5: the review lists grants dated ahead too (they count against ACCESS-6), so a
    manager can revoke one before it starts."""
    grant = give_grant(nurse, protected, started_days_ago=-1)
    logged_in(client, manager)
    assert (
        f"/protection/grants/{grant.pk}/end/" in client.get("/protection/grants/").content.decode()
    )


def test_access_5_manager_cannot_revoke_another_units_grant(client, manager, protected):
    other = UserFactory(username="annan", role="prescriber")
    grant = give_grant(other, protected)
    logged_in(client, manager)
    assert client.post(f"/protection/grants/{grant.pk}/end/").status_code == 404
    grant.refresh_from_db()
    assert grant.ended_at is None


def test_access_5_review_page_pins_its_query_count(client, manager, unit, protected):
    for n in range(5):
        give_grant(UserFactory(username=f"p{n}", role="prescriber", unit=unit), protected)
    logged_in(client, manager)
    client.get("/protection/grants/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/protection/grants/")
    few = len(queries)
    give_grant(UserFactory(username="p9", role="prescriber", unit=unit), protected)
    with CaptureQueriesContext(connection) as queries:
        client.get("/protection/grants/")
    assert len(queries) == few  # no per-row queries


def test_access_3_request_list_pins_its_query_count(client, manager, nurse, protected, admin):
    make_request(client, manager, protected, [nurse])
    logged_in(client, admin)
    client.get("/protection/requests/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/protection/requests/")
    few = len(queries)
    make_request(client, manager, protected, [nurse])
    logged_in(client, admin)
    with CaptureQueriesContext(connection) as queries:
        client.get("/protection/requests/")
    assert len(queries) == few


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("prescriber", "/protection/requests/"),
        ("prescriber", "/protection/grants/"),
        ("unit_manager", "/protection/requests/"),
        ("protection_admin", "/protection/requests/new/"),
        ("logistics", "/protection/grants/"),
    ],
)
def test_grant_pages_are_denied_to_other_roles(client, protected, role, path):
    logged_in(client, UserFactory(username=f"x-{role}", role=role))
    response = client.get(path.format(ref=protected.patient.reference))
    assert response.status_code == 403


def test_audit_1_opening_a_request_to_decide_it_is_logged(client, manager, nurse, protected, admin):
    make_request(client, manager, protected, [nurse])
    request = GrantRequest.objects.get()
    logged_in(client, admin)
    client.get(f"/protection/requests/{request.pk}/")
    entry = AccessEntry.objects.get(action="read", object_type="grant_request")
    assert (entry.user_id, entry.patient_id) == (admin.pk, protected.patient_id)


def test_access_3_the_decider_may_not_be_among_the_staff(client, manager, protected, admin):
    # A protection administrator who also works in the unit is named in the request.
    admin.staff_profile.unit = manager.staff_profile.unit
    admin.staff_profile.save()
    make_request(client, manager, protected, [admin])
    request = GrantRequest.objects.get()
    response = _decide(client, admin, request)
    assert "someone else decides" in response.content.decode()
    assert not Grant.objects.exists()


def test_access_6_grants_still_to_come_count_against_the_limit(
    client, manager, nurse, protected, admin, settings
):
    settings.PROTECTION_MAX_GRANTS_PER_PATIENT = 1
    grant = give_grant(UserFactory(username="senare", role="prescriber"), protected)
    grant.starts_at = timezone.now() + timedelta(days=10)
    grant.save()
    make_request(client, manager, protected, [nurse])
    refused = _decide(client, admin, GrantRequest.objects.get())
    assert "Confirm that every one of them needs it." in refused.content.decode()


def test_access_2_a_grant_starts_within_a_month(client, manager, nurse, protected):
    start = timezone.localdate() + timedelta(days=60)
    response = make_request(
        client,
        manager,
        protected,
        [nurse],
        starts_on=start.isoformat(),
        ends_on=(start + timedelta(days=30)).isoformat(),
    )
    assert "a grant starts within a month of the request" in response.content.decode()
    assert not GrantRequest.objects.exists()


def test_access_5_a_manager_without_a_unit_sees_and_ends_no_grants(client, protected):
    from patients.models import StaffProfile

    lonely = UserFactory(username="ensam", role="unit_manager")
    StaffProfile.objects.filter(user=lonely).update(unit=None)
    grant = give_grant(UserFactory(username="utan", role="prescriber"), protected)
    StaffProfile.objects.filter(user=grant.user).update(unit=None)
    logged_in(client, lonely)
    assert client.get("/protection/grants/").status_code == 404
    assert client.post(f"/protection/grants/{grant.pk}/end/").status_code == 404


@pytest.mark.parametrize("field", ["reason", "note"])
def test_leak_2_request_reason_and_decision_note_carry_no_personnummer(
    client, manager, nurse, protected, admin, field
):
    if field == "reason":
        response = make_request(client, manager, protected, [nurse], reason="Gäller 19891223-2389")
        assert "write no personnummer, name or address" in response.content.decode()
        assert not GrantRequest.objects.exists()
    else:
        make_request(client, manager, protected, [nurse])
        logged_in(client, admin)
        request = GrantRequest.objects.get()
        response = client.post(
            f"/protection/requests/{request.pk}/", {"decision": "grant", "note": "891223-2389"}
        )
        assert "do not write the patient&#x27;s personnummer" in response.content.decode()
        assert not Grant.objects.exists()


def test_access_5_deactivating_in_the_admin_ends_the_grants_at_once(client, nurse, protected):
    grant = give_grant(nurse, protected)
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(root)
    page = client.get(f"/admin/auth/user/{nurse.pk}/change/")
    form = page.context["adminform"].form
    data = {
        key: value
        for key, value in form.initial.items()
        if value is not None and not isinstance(value, list | tuple)
    }
    data.update({"username": nurse.username, "is_active": "", "date_joined_0": "2026-01-01",
                 "date_joined_1": "00:00:00", "last_login_0": "", "last_login_1": ""})  # fmt: skip
    data.pop("password", None)
    response = client.post(f"/admin/auth/user/{nurse.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    grant.refresh_from_db()
    assert grant.ended_at is not None
    assert grant.end_reason == "user deactivated"
    assert get_perms(nurse, protected.patient) == []
