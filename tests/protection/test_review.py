"""The log review (AUDIT-3) and the review of emergency accesses (ACCESS-7)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from patients.models import AccessAction, AccessEntry, AccessOutcome
from protection import review
from protection.models import EmergencyAccess, Grant
from protection.services import ProtectionError
from protection.services.emergency import emergency_access_open
from protection.services.review import emergency_access_review
from protection.views.review import AccessReviewFilterForm
from tests.factories import PatientFactory, UnitFactory, UserFactory
from tests.personas import (
    PROTECTED_NUMBER,
    ctx_for,
    ordinary_identity_create,
    protected_identity_create,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """The services' messages are matched in English; a request's language ends with the
    request (config/middleware.py), so without this they come out in the project's Swedish."""
    with translation.override("en"):
        yield


PROTECTED = PROTECTED_NUMBER
STOCKHOLM = ZoneInfo("Europe/Stockholm")
REVIEW_URL = "/protection/review/"
SAMPLE_URL = "/protection/review/sample/"


def local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A moment in Swedish local time; 2025-03-12 is a Wednesday."""
    return datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM)


WEDNESDAY_NOON = local(2025, 3, 12, 12, 0)


def number_forms(canonical: str) -> list[str]:
    short = canonical[2:]
    return [canonical, f"{canonical[:8]}-{canonical[8:]}", short, f"{short[:6]}-{short[6:]}"]


def entry(
    user,
    at: datetime,
    patient=None,
    action: str = AccessAction.READ,
    outcome: str = AccessOutcome.ALLOWED,
    unit=None,
    object_type: str = "patient",
) -> AccessEntry:
    return AccessEntry.objects.create(
        at=at,
        user=user,
        unit=unit or (user.staff_profile.unit if user else None),
        action=action,
        outcome=outcome,
        patient=patient,
        patient_protected=bool(patient and patient.is_protected),
        object_type=object_type,
        object_id=patient.reference if patient else "",
    )


def listed(user, **filters) -> dict[int, AccessEntry]:
    return {e.pk: e for e in review.access_entries_list_for_user(user=user, **filters)}


def flags(row: AccessEntry) -> set[str]:
    return {
        name
        for name in ("without_grant", "denied", "emergency", "out_of_hours")
        if getattr(row, name)
    }


@pytest.fixture
def unit_a():
    return UnitFactory(name="Hjälpmedelsenheten Norr")


@pytest.fixture
def unit_b():
    return UnitFactory(name="Hjälpmedelsenheten Syd")


@pytest.fixture
def admin():
    return UserFactory(username="skydd", role="protection_admin")


@pytest.fixture
def manager(unit_a):
    return UserFactory(username="chef", role="unit_manager", unit=unit_a)


@pytest.fixture
def anna(unit_a):
    return UserFactory(username="anna", role="prescriber", unit=unit_a)


@pytest.fixture
def bert(unit_b):
    return UserFactory(username="bert", role="prescriber", unit=unit_b)


@pytest.fixture
def protected_identity():
    return protected_identity_create()


@pytest.fixture
def protected(protected_identity):
    return protected_identity.patient


@pytest.fixture
def ordinary():
    return PatientFactory()


def login(client, user):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- filters -----------------------------------------------------------------------------------


def test_audit_3_filters_by_patient(admin, anna, protected, ordinary, client):
    about_protected = entry(anna, WEDNESDAY_NOON, protected)
    about_ordinary = entry(anna, WEDNESDAY_NOON, ordinary)
    assert set(listed(admin, patient_reference=protected.reference)) == {about_protected.pk}
    assert set(listed(admin, patient_reference=ordinary.reference)) == {about_ordinary.pk}

    content = login(client, admin).get(REVIEW_URL, {"patient": protected.reference}).content
    assert protected.reference in content.decode()
    assert ordinary.reference not in content.decode()


def test_audit_3_filters_by_user(admin, anna, bert, ordinary, client):
    by_anna = entry(anna, WEDNESDAY_NOON, ordinary)
    entry(bert, WEDNESDAY_NOON, ordinary)
    assert set(listed(admin, username="anna")) == {by_anna.pk}

    content = login(client, admin).get(REVIEW_URL, {"username": "bert"}).content.decode()
    assert ">bert</a>" in content
    assert ">anna</a>" not in content


def test_audit_3_filters_by_period_in_whole_local_days(admin, anna, ordinary, client):
    entry(anna, local(2025, 3, 10, 23, 59), ordinary)
    first = entry(anna, local(2025, 3, 11, 0, 0), ordinary)
    last = entry(anna, local(2025, 3, 12, 23, 59), ordinary)
    entry(anna, local(2025, 3, 13, 0, 0), ordinary)
    found = listed(admin, date_from=date(2025, 3, 11), date_to=date(2025, 3, 12))
    assert set(found) == {first.pk, last.pk}

    response = login(client, admin).get(
        REVIEW_URL, {"date_from": "2025-03-11", "date_to": "2025-03-12"}
    )
    assert [e.pk for e, _card in response.context["entries"]] == [last.pk, first.pk]


def test_audit_3_period_ending_before_it_starts_is_refused(admin, client):
    response = login(client, admin).get(
        REVIEW_URL, {"date_from": "2025-03-12", "date_to": "2025-03-11"}
    )
    assert "Until: The end date is before the start date." in response.content.decode()
    assert response.context["entries"] is None


# --- highlights --------------------------------------------------------------------------------


def test_audit_3_highlights_access_without_a_valid_grant(admin, anna, bert, protected, ordinary):
    Grant.objects.create(
        user=anna,
        patient=protected,
        starts_at=local(2025, 3, 1, 0, 0),
        ends_at=local(2025, 4, 1, 0, 0),
        ended_at=local(2025, 3, 20, 0, 0),
    )
    covered = entry(anna, local(2025, 3, 10, 10, 0), protected)
    before_start = entry(anna, local(2025, 2, 28, 10, 0), protected)
    after_revoked = entry(anna, local(2025, 3, 25, 10, 0), protected)
    other_user = entry(bert, local(2025, 3, 10, 10, 0), protected)
    unprotected = entry(anna, local(2025, 3, 10, 10, 0), ordinary)
    denied = entry(bert, local(2025, 3, 10, 11, 0), protected, outcome=AccessOutcome.DENIED)
    # Administering access needs no grant: a grant decision is not an access without one.
    decision = entry(
        admin, local(2025, 3, 10, 11, 0), protected, AccessAction.GRANT, object_type="grant"
    )

    rows = listed(admin)
    assert "without_grant" in flags(rows[before_start.pk])
    assert "without_grant" in flags(rows[after_revoked.pk])
    assert "without_grant" in flags(rows[other_user.pk])
    for quiet in (covered, unprotected, denied, decision):
        assert "without_grant" not in flags(rows[quiet.pk])


def test_audit_3_highlights_denied_attempts(admin, bert, protected):
    denied = entry(bert, WEDNESDAY_NOON, protected, AccessAction.SEARCH_HIT, AccessOutcome.DENIED)
    no_match = entry(bert, WEDNESDAY_NOON, None, AccessAction.SEARCH, AccessOutcome.NO_MATCH)
    rows = listed(admin)
    assert flags(rows[denied.pk]) == {"denied"}
    assert flags(rows[no_match.pk]) == set()


def test_audit_3_highlights_break_the_glass_and_accesses_under_it(admin, bert, protected):
    EmergencyAccess.objects.create(
        user=bert,
        patient=protected,
        reason="Ambulance call-out",
        starts_at=local(2025, 3, 12, 10, 0),
        ends_at=local(2025, 3, 12, 11, 0),
    )
    glass = entry(
        bert,
        local(2025, 3, 12, 10, 0),
        protected,
        AccessAction.BREAK_GLASS,
        object_type="emergency_access",
    )
    read_under_it = entry(bert, local(2025, 3, 12, 10, 30), protected)
    read_after = entry(bert, local(2025, 3, 12, 11, 0), protected)
    rows = listed(admin)
    assert flags(rows[glass.pk]) == {"emergency"}
    assert flags(rows[read_under_it.pk]) == {"emergency", "without_grant"}
    assert flags(rows[read_after.pk]) == {"without_grant"}


@pytest.mark.parametrize(
    ("at", "out_of_hours"),
    [
        (local(2025, 3, 12, 6, 59), True),
        (local(2025, 3, 12, 7, 0), False),
        (local(2025, 3, 12, 17, 59), False),
        (local(2025, 3, 12, 18, 0), True),
        (local(2025, 3, 15, 10, 0), True),  # Saturday
        (local(2025, 3, 16, 10, 0), True),  # Sunday
        (local(2025, 6, 11, 6, 59), True),  # summer time: 04:59 UTC
        (local(2025, 6, 11, 7, 0), False),
    ],
    ids=["06:59", "07:00", "17:59", "18:00", "saturday", "sunday", "summer-06:59", "summer-07:00"],
)
def test_audit_3_highlights_out_of_hours_local_time(admin, anna, ordinary, at, out_of_hours):
    made = entry(anna, at, ordinary)
    row = listed(admin)[made.pk]
    assert row.out_of_hours is out_of_hours


def test_audit_3_only_highlighted_and_labels_on_the_page(admin, anna, bert, protected, client):
    quiet = entry(anna, WEDNESDAY_NOON, PatientFactory())
    loud = entry(bert, local(2025, 3, 15, 22, 0), protected, outcome=AccessOutcome.DENIED)
    emergency = entry(
        bert, WEDNESDAY_NOON, protected, AccessAction.BREAK_GLASS, object_type="emergency_access"
    )
    unguarded = entry(anna, WEDNESDAY_NOON, protected)
    assert set(listed(admin, only_flagged=True)) == {loud.pk, emergency.pk, unguarded.pk}
    assert quiet.pk in listed(admin)

    response = login(client, admin).get(REVIEW_URL, {"only_flagged": "on"})
    content = response.content.decode()
    for label in ("Without a valid grant", "Denied", "Emergency access", "Out of hours"):
        assert f"{label}</strong>" in content


# --- scope -------------------------------------------------------------------------------------


def test_audit_3_unit_manager_sees_only_their_units_scope(
    manager, anna, bert, unit_a, ordinary, client
):
    own_staff = entry(anna, WEDNESDAY_NOON, ordinary)
    elsewhere = entry(bert, WEDNESDAY_NOON, ordinary)
    for_our_unit = entry(bert, WEDNESDAY_NOON, ordinary, unit=unit_a)
    assert set(listed(manager)) == {own_staff.pk, for_our_unit.pk}

    response = login(client, manager).get(REVIEW_URL)
    assert response.status_code == 200
    shown = {e.pk for e, _card in response.context["entries"]}
    assert shown == {own_staff.pk, for_our_unit.pk}
    assert elsewhere.pk not in shown


def test_audit_3_unit_manager_without_unit_sees_nothing(anna, ordinary):
    manager = UserFactory(username="chef2", role="unit_manager")
    manager.staff_profile.unit = None
    manager.staff_profile.save()
    entry(anna, WEDNESDAY_NOON, ordinary)
    assert listed(manager) == {}


def test_audit_3_protection_admin_sees_everything(admin, anna, bert, ordinary, protected):
    made = {
        entry(anna, WEDNESDAY_NOON, ordinary).pk,
        entry(bert, WEDNESDAY_NOON, protected).pk,
        entry(None, WEDNESDAY_NOON, ordinary).pk,  # the system (the Navet import)
    }
    assert set(listed(admin)) == made


def test_audit_3_prescriber_is_denied_the_review(anna, ordinary, client):
    """Denied path: neither the pages nor the selectors open to someone without a review role."""
    entry(anna, WEDNESDAY_NOON, ordinary)
    login(client, anna)
    assert client.get(REVIEW_URL).status_code == 403
    assert (
        client.get(SAMPLE_URL, {"date_from": "2025-03-01", "date_to": "2025-03-31"}).status_code
        == 403
    )
    with pytest.raises(PermissionDenied):
        review.access_entries_list_for_user(user=anna)
    with pytest.raises(PermissionDenied):
        review.access_entries_sample_for_user(
            user=anna, date_from=date(2025, 3, 1), date_to=date(2025, 3, 31)
        )
    with pytest.raises(PermissionDenied):
        review.emergency_accesses_to_review(user=anna)


def test_audit_3_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(REVIEW_URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_audit_1_the_review_logs_each_patient_it_names_once_not_each_row(admin, anna, client):
    """The review names the patients as the gate allows (``patient_labels_for_user``): an access
    to patient data, logged once per patient on the page, so that reading the log does not
    multiply it."""
    karin = ordinary_identity_create().patient
    for minutes in range(3):
        entry(anna, WEDNESDAY_NOON + timedelta(minutes=minutes), karin)
    content = login(client, admin).get(REVIEW_URL).content.decode()
    assert "Karin Nilsson" in content
    logged = AccessEntry.objects.filter(user=admin, object_type="access_log_review")
    assert list(logged.values_list("patient_id", "outcome")) == [(karin.pk, AccessOutcome.ALLOWED)]


# --- emergency accesses (ACCESS-7) ---------------------------------------------------------------


def test_access_7_emergency_access_shown_at_once_and_marked_reviewed_once(
    admin, bert, protected, client
):
    """AUDIT-3 / ACCESS-7: break the glass, and it is at the top of the review at once."""
    access = emergency_access_open(
        ctx=ctx_for(bert), patient=protected, reason="Ambulance call-out, unconscious"
    )
    login(client, admin)
    content = client.get(REVIEW_URL).content.decode()
    top = content.index("Emergency accesses to review")
    assert top < content.index("Access log</h2>")
    assert content.index("Ambulance call-out, unconscious") < content.index("Access log</h2>")
    assert f"Mark emergency access {access.pk} reviewed" in content

    url = f"/protection/review/emergency/{access.pk}/"
    response = client.post(url, {"note": "Checked with the ambulance log."}, follow=True)
    assert f"Emergency access {access.pk} is marked reviewed." in response.content.decode()
    access.refresh_from_db()
    assert access.reviewed_by == admin
    assert access.reviewed_at is not None
    assert access.review_note == "Checked with the ambulance log."
    logged = AccessEntry.objects.get(object_type="emergency_access", action=AccessAction.CHANGE)
    assert (logged.user_id, logged.patient_id, logged.object_id) == (
        admin.pk,
        protected.pk,
        str(access.pk),
    )
    assert list(review.emergency_accesses_to_review(user=admin)) == []

    again = client.post(url, {"note": "Twice."}, follow=True).content.decode()
    assert "This emergency access has already been reviewed." in again
    access.refresh_from_db()
    assert access.review_note == "Checked with the ambulance log."
    with pytest.raises(ProtectionError, match="already been reviewed"):
        emergency_access_review(ctx=ctx_for(admin), access_id=access.pk, note="x")


def test_access_7_emergency_accesses_newest_first(admin, anna, bert, protected):
    now = timezone.now()
    older = EmergencyAccess.objects.create(
        user=anna, patient=protected, reason="Police request", starts_at=now - timedelta(hours=2),
        ends_at=now - timedelta(hours=1),
    )  # fmt: skip
    newer = EmergencyAccess.objects.create(
        user=bert, patient=protected, reason="Ambulance", ends_at=now + timedelta(hours=1)
    )
    assert list(review.emergency_accesses_to_review(user=admin)) == [newer, older]


def test_access_7_unit_manager_sees_but_may_not_review_emergency_access(
    manager, anna, bert, protected, client
):
    """Denied path: the review of an emergency access is the protection administrators'."""
    ours = emergency_access_open(ctx=ctx_for(anna), patient=protected, reason="Police request")
    emergency_access_open(ctx=ctx_for(bert), patient=protected, reason="Ambulance call")
    assert list(review.emergency_accesses_to_review(user=manager)) == [ours]
    login(client, manager)
    content = client.get(REVIEW_URL).content.decode()
    assert "Police request" in content
    assert "Ambulance call" not in content
    assert "Mark emergency access" not in content
    response = client.post(f"/protection/review/emergency/{ours.pk}/", {"note": "Fine."})
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        emergency_access_review(ctx=ctx_for(manager), access_id=ours.pk, note="x")
    ours.refresh_from_db()
    assert ours.reviewed_at is None


def test_access_7_nobody_reviews_their_own_emergency_access(admin, protected):
    # A protection administrator who also works in care (both roles) broke the glass.
    from django.contrib.auth.models import Group

    admin.groups.add(Group.objects.get(name="prescriber"))
    own = emergency_access_open(ctx=ctx_for(admin), patient=protected, reason="Police request")
    with pytest.raises(ProtectionError, match="Someone other"):
        emergency_access_review(ctx=ctx_for(admin), access_id=own.pk, note="ok")


def test_access_7_review_needs_a_note(admin, bert, protected, client):
    access = emergency_access_open(ctx=ctx_for(bert), patient=protected, reason="Police request")
    login(client, admin)
    response = client.post(f"/protection/review/emergency/{access.pk}/", {"note": " "}, follow=True)
    assert "What the review found: This field is required." in response.content.decode()
    access.refresh_from_db()
    assert access.reviewed_at is None


# --- the random sample -------------------------------------------------------------------------


def test_audit_3_sample_within_period_scope_and_size(manager, anna, bert, unit_a, ordinary):
    inside = {
        entry(anna, local(2025, 3, 3, 8, 0) + timedelta(hours=n), ordinary).pk for n in range(30)
    }
    entry(anna, local(2025, 2, 28, 12, 0), ordinary)  # before the period
    entry(anna, local(2025, 3, 8, 0, 0), ordinary)  # after the period
    entry(bert, local(2025, 3, 4, 12, 0), ordinary)  # outside the manager's scope
    sample = review.access_entries_sample_for_user(
        user=manager, date_from=date(2025, 3, 3), date_to=date(2025, 3, 7), size=7
    )
    assert len(sample.rows) == 7
    assert {row.pk for row in sample.rows} <= inside
    assert sample.population == 30

    small = review.access_entries_sample_for_user(
        user=manager, date_from=date(2025, 3, 3), date_to=date(2025, 3, 7), size=50
    )
    assert {row.pk for row in small.rows} == inside


def test_audit_3_same_seed_gives_same_sample(admin, anna, ordinary, client):
    for n in range(40):
        entry(anna, local(2025, 3, 3, 8, 0) + timedelta(minutes=7 * n), ordinary)
    period = {"user": admin, "date_from": date(2025, 3, 3), "date_to": date(2025, 3, 3), "size": 5}
    first = review.access_entries_sample_for_user(seed=12345, **period)
    second = review.access_entries_sample_for_user(seed=12345, **period)
    assert [r.pk for r in first.rows] == [r.pk for r in second.rows]
    assert first.seed == 12345

    unseeded = review.access_entries_sample_for_user(**period)
    again = review.access_entries_sample_for_user(seed=unseeded.seed, **period)
    assert [r.pk for r in again.rows] == [r.pk for r in unseeded.rows]

    response = login(client, admin).get(
        SAMPLE_URL,
        {"date_from": "2025-03-03", "date_to": "2025-03-03", "size": "5", "seed": "12345"},
    )
    content = response.content.decode()
    assert [r.pk for r in response.context["sample"].rows] == [r.pk for r in first.rows]
    assert "5 entries were drawn at random from the 40 entries" in content
    assert "seed 12345" in content


# --- no identity on the pages (LEAK-1) -----------------------------------------------------------


def test_audit_3_review_pages_never_show_name_or_number(
    admin, bert, protected_identity, protected, client
):
    """LEAK-1: the protection administrator, holding no grant, sees the masked label: "Protected
    identity" and the birth year, never the name or the number."""
    emergency_access_open(ctx=ctx_for(bert), patient=protected, reason="Ambulance call-out")
    today = timezone.localdate()
    entry(bert, timezone.now(), protected)
    entry(bert, timezone.now(), protected, AccessAction.SEARCH_HIT, AccessOutcome.DENIED)
    login(client, admin)
    pages = [
        client.get(REVIEW_URL).content.decode(),
        client.get(REVIEW_URL, {"patient": protected.reference}).content.decode(),
        client.get(
            SAMPLE_URL, {"date_from": today.isoformat(), "date_to": today.isoformat(), "size": 20}
        ).content.decode(),
    ]
    for content in pages:
        assert "Protected identity</strong>, born 1989" in content
        for secret in ("Hemlig", "Gömdasson", "Gömdavägen", "21120", *number_forms(PROTECTED)):
            assert secret not in content


@pytest.mark.parametrize("typed", [*number_forms(PROTECTED), "19891223 - 2389"])
def test_audit_3_personnummer_in_patient_filter_is_refused(admin, protected, client, typed):
    """A number typed into the filter never becomes a URL the product serves (LEAK-1): the
    address guard refuses the request; the form refuses it too, naming the field."""
    entry(admin, WEDNESDAY_NOON, protected)
    response = login(client, admin).get(REVIEW_URL, {"patient": typed})
    assert response.status_code == 400
    for form in number_forms(PROTECTED):
        assert form not in response.content.decode()
    filter_form = AccessReviewFilterForm({"patient": typed})
    assert not filter_form.is_valid()
    assert filter_form.errors["patient"] == [
        "Give the internal reference (P- and ten characters), never a personnummer."
    ]


def test_audit_3_personnummer_in_user_filter_is_refused(admin, client):
    response = login(client, admin).get(REVIEW_URL, {"username": "8912232389"})
    assert response.status_code == 400
    assert "8912232389" not in response.content.decode()
    filter_form = AccessReviewFilterForm({"username": "8912232389"})
    assert filter_form.errors["username"] == ["Give a username, never a personnummer."]


def test_audit_3_patient_filter_wants_the_reference_format(admin, client):
    response = login(client, admin).get(REVIEW_URL, {"patient": "Hemlig Gömdasson"})
    content = response.content.decode()
    assert "Patient reference: Give the internal reference: P- followed by ten" in content
    assert "Gömdasson" not in content


def test_audit_3_patient_filter_accepts_lower_case_reference(admin, anna, protected):
    found = entry(anna, WEDNESDAY_NOON, protected)
    form = AccessReviewFilterForm({"patient": protected.reference.lower()})
    assert form.is_valid()
    assert set(listed(admin, patient_reference=form.cleaned_data["patient"])) == {found.pk}


# --- query count -------------------------------------------------------------------------------


def _list_page_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(REVIEW_URL)
    assert response.status_code == 200
    return len(captured)


def test_audit_3_list_page_query_count_is_pinned(
    admin, anna, bert, protected, ordinary, client, django_assert_num_queries
):
    """One query for the rows whatever their number: highlights are annotations."""
    login(client, admin)
    entry(anna, WEDNESDAY_NOON, ordinary)
    EmergencyAccess.objects.create(
        user=bert, patient=protected, reason="Police request", ends_at=timezone.now()
    )
    few = _list_page_queries(client)
    for n in range(25):
        entry(bert, WEDNESDAY_NOON + timedelta(minutes=n), protected)
        EmergencyAccess.objects.create(
            user=anna, patient=protected, reason="Ambulance", ends_at=timezone.now()
        )
    assert _list_page_queries(client) == few
    # session, user, the user's permissions (2), emergency accesses, documents printed for
    # another principal (PRINT-2; their patients are one more query when there are any), rows,
    # changes to accounts and suspended accounts (ACCESS-10), and the patients as labels (the
    # reviewer's unit, the guards, the grants, the patients, one INSERT into the access log)
    with django_assert_num_queries(13):  # was 14 (issue 16)
        client.get(REVIEW_URL)


def test_leak_1_an_emergency_review_note_carries_no_personnummer(admin, bert, protected):
    access = emergency_access_open(ctx=ctx_for(bert), patient=protected, reason="Police request")
    with pytest.raises(ProtectionError, match="do not write the patient's personnummer"):
        emergency_access_review(
            ctx=ctx_for(admin), access_id=access.pk, note="Gällde 19891223-2389, ok"
        )
    access.refresh_from_db()
    assert access.reviewed_at is None


def test_audit_3_emergency_review_permission_alone_does_not_open_the_log(anna, protected, client):
    """Denied path: a refused emergency review shows the log review page again; a user holding
    only the review permission (not the log's) gets 403 there, not the log."""
    from django.contrib.auth.models import Group, Permission

    access = emergency_access_open(ctx=ctx_for(anna), patient=protected, reason="Police request")
    only_review = Group.objects.create(name="only emergency review")
    only_review.permissions.add(
        Permission.objects.get(
            content_type__app_label="protection", codename="change_emergencyaccess"
        )
    )
    reviewer = UserFactory(username="granskare")
    reviewer.groups.add(only_review)
    login(client, reviewer)
    response = client.post(f"/protection/review/emergency/{access.pk}/", {"note": ""})
    assert response.status_code == 403
    assert "Police request" not in response.content.decode()
    access.refresh_from_db()
    assert access.reviewed_at is None
