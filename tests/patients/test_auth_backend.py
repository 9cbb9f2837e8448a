"""patients.auth.StaffModelBackend: the user, their unit and their permissions in fewer round
trips (issue 16), and every change to them counting from the very next request."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from patients.auth import StaffModelBackend
from patients.models import AccessEntry, StaffProfile
from patients.services import Actor
from protection.gate import AccessContext
from protection.services.grants import staff_deactivate
from tests.factories import PatientIdentityFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db

NUMBER = "198912222398"


@pytest.fixture
def prescriber():
    return UserFactory(username="anna", role="prescriber")


@pytest.fixture
def patient_url():
    identity = PatientIdentityFactory(personal_identity_number=NUMBER)
    return f"/patients/{identity.patient.reference}/"


@pytest.fixture
def logged_in(client, prescriber):
    client.force_login(prescriber)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_backend_gives_the_same_permissions_as_djangos_in_one_query(prescriber):
    codename = "view_protected_identity"
    prescriber.user_permissions.add(Permission.objects.get(codename=codename))
    expected = ModelBackend()
    user = StaffModelBackend().get_user(prescriber.pk)
    reference = type(prescriber).objects.get(pk=prescriber.pk)
    with CaptureQueriesContext(connection) as queries:
        everything = StaffModelBackend().get_all_permissions(user)
        own = StaffModelBackend().get_user_permissions(user)
        through_groups = StaffModelBackend().get_group_permissions(user)
    assert len(queries) == 1
    assert everything == expected.get_all_permissions(reference)
    assert own == {f"patients.{codename}"} == expected.get_user_permissions(reference)
    assert through_groups == expected.get_group_permissions(reference)
    assert "patients.view_patient" in through_groups


def test_backend_reads_the_unit_with_the_user(prescriber):
    user = StaffModelBackend().get_user(prescriber.pk)
    with CaptureQueriesContext(connection) as queries:
        unit_id = user.staff_profile.unit_id
    assert len(queries) == 0
    assert unit_id == StaffProfile.objects.get(user=prescriber).unit_id


def test_backend_without_a_staff_profile_gives_no_unit_and_no_query():
    user = UserFactory(username="adm")
    StaffProfile.objects.filter(user=user).delete()
    loaded = StaffModelBackend().get_user(user.pk)
    with CaptureQueriesContext(connection) as queries, pytest.raises(StaffProfile.DoesNotExist):
        loaded.staff_profile  # noqa: B018 - the access is the test
    assert len(queries) == 0


def test_access_5_withdrawn_role_stops_working_at_the_next_request(
    logged_in, prescriber, patient_url
):
    assert logged_in.get(patient_url).status_code == 200
    prescriber.groups.remove(Group.objects.get(name="prescriber"))
    assert logged_in.get(patient_url).status_code == 403


def test_access_5_permission_taken_from_the_role_stops_working_at_the_next_request(
    logged_in, patient_url
):
    assert logged_in.get(patient_url).status_code == 200
    Group.objects.get(name="prescriber").permissions.remove(
        Permission.objects.get(codename="view_patient", content_type__app_label="patients")
    )
    assert logged_in.get(patient_url).status_code == 403


def test_access_5_deactivated_user_is_signed_out_at_the_next_request(
    logged_in, prescriber, patient_url
):
    assert logged_in.get(patient_url).status_code == 200
    admin = UserFactory(username="security", is_superuser=True)
    staff_deactivate(
        ctx=AccessContext(user=admin, actor=Actor.system(), session=None), user_id=prescriber.pk
    )
    response = logged_in.get(patient_url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_audit_1_changed_unit_is_logged_from_the_next_request(logged_in, prescriber, patient_url):
    logged_in.get(patient_url)
    new_unit = UnitFactory()
    StaffProfile.objects.filter(user=prescriber).update(unit=new_unit)
    logged_in.get(patient_url)
    first, second = AccessEntry.objects.order_by("pk")
    assert first.unit_id != new_unit.pk
    assert second.unit_id == new_unit.pk
