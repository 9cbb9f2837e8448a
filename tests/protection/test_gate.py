"""The gate: grants, step-up and emergency access decide who sees a protected patient."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from guardian.shortcuts import assign_perm

from patients.models import AccessEntry, AccessOutcome
from patients.services import Actor
from protection.gate import PROTECTED_PERMISSION, STEP_UP_SESSION_KEY
from protection.models import EmergencyAccess
from tests.factories import PatientIdentityFactory, PatientRelationFactory, UserFactory
from tests.personas import PROTECTED_NUMBER, give_grant, logged_in, masked_token

pytestmark = pytest.mark.django_db

SECRETS = ("Hemlig", "Gömdasson", "Gömdavägen", "19891223-2389", "198912232389", "8912232389")


def shows_identity(content: str) -> bool:
    return any(secret in content for secret in SECRETS)


def open_page(client, identity):
    return client.get(f"/patients/{identity.patient.reference}/")


def test_access_1_grant_holder_sees_protected_patient_after_step_up(client, prescriber, protected):
    """PROT-2: the grant holder sees the correct personnummer with the one label beside it."""
    give_grant(prescriber, protected)
    logged_in(client, prescriber, stepped_up=True)
    response = open_page(client, protected)
    content = response.content.decode()
    assert response.status_code == 200
    assert "Hemlig Gömdasson" in content
    assert "19891223-2389" in content
    assert "Protected identity" in content  # PROT-2: label next to the number
    entry = AccessEntry.objects.filter(action="read").get()
    assert (entry.outcome, entry.patient_protected) == (AccessOutcome.ALLOWED, True)


def test_access_4_step_up_is_asked_and_cannot_be_skipped_by_url(client, prescriber, protected):
    give_grant(prescriber, protected)
    logged_in(client, prescriber)
    response = open_page(client, protected)
    assert response.status_code == 302
    assert response["Location"] == (
        f"/protection/step-up/?next=%2Fpatients%2F{protected.patient.reference}%2F"
    )
    # Asking for the page again, or searching, does not skip the prompt.
    assert open_page(client, protected).status_code == 302
    search = client.post("/", {"number": PROTECTED_NUMBER}).content.decode()
    assert not shows_identity(search)
    assert "Confirm your password to open the patient" in search


def test_access_4_wrong_password_keeps_the_patient_closed(client, prescriber, protected):
    give_grant(prescriber, protected)
    logged_in(client, prescriber)
    response = client.post("/protection/step-up/", {"password": "wrong"})
    assert "The password is not correct." in response.content.decode()
    assert open_page(client, protected).status_code == 302
    assert AccessEntry.objects.filter(action="step_up", outcome="denied").count() == 1


def test_access_4_step_up_expires_after_the_window(client, prescriber, protected, settings):
    give_grant(prescriber, protected)
    logged_in(client, prescriber, stepped_up=True)
    session = client.session
    session[STEP_UP_SESSION_KEY] = time.time() - settings.PROTECTION_STEP_UP_SECONDS - 1
    session.save()
    assert open_page(client, protected).status_code == 302


def test_access_4_step_up_redirect_stays_on_this_site(client, prescriber):
    logged_in(client, prescriber)
    response = client.post(
        "/protection/step-up/", {"password": "pw-for-tests-only", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_access_1_without_grant_masked_even_after_step_up(client, prescriber, protected):
    logged_in(client, prescriber, stepped_up=True)
    content = open_page(client, protected).content.decode()
    assert not shows_identity(content)
    assert "No access" in content


@pytest.mark.parametrize("who", ["superuser", "customer_service", "protection_admin"])
def test_access_1_superuser_and_admin_roles_get_the_masked_row(client, protected, who):
    if who == "superuser":
        user = UserFactory(username="root", is_superuser=True, is_staff=True)
    else:
        user = UserFactory(username=who, role=who)
    logged_in(client, user, stepped_up=True)
    content = client.post("/", {"number": PROTECTED_NUMBER}).content.decode()
    assert not shows_identity(content)
    assert "Protected identity" in content


def test_access_1_global_or_group_permission_never_opens(client, prescriber, protected):
    permission = Permission.objects.get(codename="view_protected_identity")
    prescriber.user_permissions.add(permission)  # a global permission
    group = prescriber.groups.get()
    assign_perm(PROTECTED_PERMISSION, group, protected.patient)  # a group object permission
    logged_in(client, prescriber, stepped_up=True)
    assert not shows_identity(open_page(client, protected).content.decode())


def test_access_2_expired_grant_gives_no_access_before_any_cleanup(client, prescriber, protected):
    grant = give_grant(prescriber, protected)
    grant.ends_at = timezone.now() - timedelta(minutes=1)
    grant.save()
    logged_in(client, prescriber, stepped_up=True)
    assert not shows_identity(open_page(client, protected).content.decode())


def test_access_2_future_and_ended_grants_give_no_access(client, prescriber, protected):
    grant = give_grant(prescriber, protected)
    grant.starts_at = timezone.now() + timedelta(days=1)
    grant.save()
    logged_in(client, prescriber, stepped_up=True)
    assert not shows_identity(open_page(client, protected).content.decode())
    grant.starts_at = timezone.now() - timedelta(days=1)
    grant.ended_at = timezone.now()
    grant.save()
    assert not shows_identity(open_page(client, protected).content.decode())


def test_access_2_a_grant_starting_tomorrow_opens_nothing_until_it_starts(prescriber, protected):
    """ACCESS-2: the gate asks protection.selectors.grants_in_force, which checks the start as
    well as the end; the permission alone opens nothing."""
    from protection.gate import protected_patients_open_to

    grant = give_grant(prescriber, protected, started_days_ago=-1)
    assert not protected_patients_open_to(prescriber).exists()
    grant.starts_at = timezone.now() - timedelta(minutes=1)
    grant.save()
    assert list(protected_patients_open_to(prescriber)) == [protected.patient]


def test_access_2_grant_row_without_guardian_permission_opens_nothing(
    client, prescriber, protected
):
    from protection.models import Grant

    now = timezone.now()
    Grant.objects.create(
        user=prescriber, patient=protected.patient, starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=1),
    )  # fmt: skip
    logged_in(client, prescriber, stepped_up=True)
    assert not shows_identity(open_page(client, protected).content.decode())


def test_access_2_grant_is_personal(client, prescriber, protected):
    give_grant(UserFactory(username="bertil", role="prescriber"), protected)
    logged_in(client, prescriber, stepped_up=True)
    assert not shows_identity(open_page(client, protected).content.decode())


def test_access_5_deactivated_user_loses_access_at_once(client, prescriber, protected):
    give_grant(prescriber, protected)
    logged_in(client, prescriber, stepped_up=True)
    assert shows_identity(open_page(client, protected).content.decode())
    prescriber.is_active = False
    prescriber.save()
    from protection.gate import protected_patients_open_to

    assert not protected_patients_open_to(prescriber).exists()


def test_prot_5_linked_person_opens_only_with_grant_to_the_protected_patient(
    client, prescriber, protected
):
    relative = PatientIdentityFactory(personal_identity_number="198912232397", surname="Maken")
    PatientRelationFactory(patient=protected.patient, related_identity_number="198912232397")
    logged_in(client, prescriber, stepped_up=True)
    assert "Maken" not in open_page(client, relative).content.decode()
    give_grant(prescriber, protected)
    assert "Maken" in open_page(client, relative).content.decode()


def test_access_7_emergency_access_opens_for_a_short_time_and_is_flagged(
    client, prescriber, protected, settings
):
    logged_in(client, prescriber, stepped_up=True)
    token = masked_token(client)
    page = client.post("/patients/emergency/", {"patient_token": token})
    assert page.status_code == 200
    assert "Reason for emergency access" in page.content.decode()
    response = client.post(
        "/patients/emergency/",
        {"patient_token": token, "reason": "Ambulanslarm, akut vård behövs"},
    )
    assert response.status_code == 302
    assert shows_identity(open_page(client, protected).content.decode())
    access = EmergencyAccess.objects.get()
    assert access.ends_at - access.starts_at <= timedelta(
        minutes=settings.PROTECTION_EMERGENCY_MINUTES, seconds=5
    )
    assert AccessEntry.objects.filter(action="break_glass", patient=protected.patient).exists()


def test_access_7_a_lapsed_emergency_access_opens_nothing(client, prescriber, protected):
    """Created lapsed: the application role cannot shorten one (LEAK-6, protection 0011)."""
    logged_in(client, prescriber, stepped_up=True)
    now = timezone.now()
    EmergencyAccess.objects.create(
        user=prescriber,
        patient=protected.patient,
        reason="Ambulanslarm, akut vård behövs",
        starts_at=now - timedelta(minutes=61),
        ends_at=now - timedelta(seconds=1),
    )
    assert not shows_identity(open_page(client, protected).content.decode())


def test_access_7_emergency_access_needs_a_reason(client, prescriber, protected):
    logged_in(client, prescriber, stepped_up=True)
    response = client.post(
        "/patients/emergency/", {"patient_token": masked_token(client), "reason": "x"}
    )
    assert response.status_code == 200
    assert "Reason for emergency access:" in response.content.decode()
    assert not EmergencyAccess.objects.exists()


def test_access_7_emergency_access_notifies_protection_admins_without_personal_data(
    client, prescriber, protected
):
    admin = UserFactory(username="skydd", role="protection_admin")
    logged_in(client, prescriber, stepped_up=True)
    client.post(
        "/patients/emergency/",
        {"patient_token": masked_token(client), "reason": "Polisens begäran vid akut läge"},
    )
    note = admin.notifications.get()
    assert not shows_identity(note.subject + note.body)
    assert protected.patient.reference in note.body


@pytest.mark.parametrize("who", ["superuser", "customer_service", "protection_admin", "logistics"])
def test_access_7_only_care_staff_may_break_the_glass(client, prescriber, protected, who):
    """Administrators and superusers never open a protected patient, not even this way."""
    logged_in(client, prescriber, stepped_up=True)
    token = masked_token(client)  # even with a valid token from someone who may
    if who == "superuser":
        user = UserFactory(username="root", is_superuser=True, is_staff=True)
    else:
        user = UserFactory(username=who, role=who)
    logged_in(client, user, stepped_up=True)
    response = client.post(
        "/patients/emergency/", {"patient_token": token, "reason": "Akut, ambulans på väg"}
    )
    assert response.status_code == 403
    assert not EmergencyAccess.objects.exists()
    from protection.gate import AccessContext
    from protection.services import ProtectionError
    from protection.services.emergency import emergency_access_open

    ctx = AccessContext(user=user, actor=Actor.system(), session=None)
    with pytest.raises(ProtectionError):
        emergency_access_open(ctx=ctx, patient=protected.patient, reason="Akut, ambulans på väg")


def test_access_1_masked_search_result_never_names_the_reference(client, prescriber, protected):
    """Whoever searches by personnummer without a grant must not learn the internal reference:
    the log review shows references with units (ACCESS-1: nothing linking to a place)."""
    logged_in(client, UserFactory(username="chef", role="unit_manager"), stepped_up=True)
    content = client.post("/", {"number": PROTECTED_NUMBER}).content.decode()
    assert "Protected identity" in content
    assert protected.patient.reference not in content


@pytest.mark.parametrize("tampered", ["forged", "other-user", "expired"])
def test_access_1_masked_token_is_bound_to_user_and_time(
    client, prescriber, protected, tampered, monkeypatch
):
    from protection import tokens

    token = tokens.masked_token(patient_id=protected.patient.pk, user_id=prescriber.pk)
    if tampered == "forged":
        token = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    elif tampered == "other-user":
        token = tokens.masked_token(patient_id=protected.patient.pk, user_id=prescriber.pk + 99)
    assert tokens.patient_from_masked_token(token, user_id=prescriber.pk) is None or (
        tampered == "expired"
    )
    if tampered == "expired":
        import time

        later = time.time() + tokens.MAX_AGE_SECONDS + 5
        monkeypatch.setattr(tokens.time, "time", lambda: later)
        assert tokens.patient_from_masked_token(token, user_id=prescriber.pk) is None
        monkeypatch.undo()
    logged_in(client, prescriber, stepped_up=True)
    if tampered != "expired":
        response = client.post("/patients/emergency/", {"patient_token": token})
        assert response.status_code == 404


def test_leak_1_emergency_reason_may_not_carry_a_personnummer(client, prescriber, protected):
    logged_in(client, prescriber, stepped_up=True)
    response = client.post(
        "/patients/emergency/",
        {"patient_token": masked_token(client), "reason": "Ambulans till 19891223-2389 akut"},
    )
    assert "write no personnummer, name or address" in response.content.decode()
    assert not EmergencyAccess.objects.exists()


def test_access_4_too_many_wrong_passwords_end_the_session(client, prescriber, protected):
    give_grant(prescriber, protected)
    logged_in(client, prescriber)
    for _ in range(4):
        response = client.post("/protection/step-up/", {"password": "wrong"})
        assert response.status_code == 200
    response = client.post("/protection/step-up/", {"password": "wrong"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    # Logged out: the right password no longer helps in this session.
    assert client.post("/protection/step-up/", {"password": "pw-for-tests-only"})[
        "Location"
    ].startswith("/accounts/login/")
    assert AccessEntry.objects.filter(action="step_up", outcome="denied").count() == 5
