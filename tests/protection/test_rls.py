"""Row-level security on the identifying tables, tested with raw SQL (ACCESS-1, LEAK-1, PROT-5).

The second line behind the gate: whatever query reaches PostgreSQL as the application role, a
protected patient's identity (and a linked person's, PROT-5) comes back only for a user with a
grant or emergency access in force, or in the system context of the jobs that need everyone.

These tests drop the system context that tests/conftest.py gives a test's own code, so their
raw queries are bound by the policies exactly as the product's are.
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import engines
from django.template.response import TemplateResponse
from django.test import override_settings
from django.urls import path
from django.utils import timezone

from config.settings import env
from patients.dbcontext import db_context
from patients.models import Patient, PatientIdentity, PatientRelation
from protection.models import EmergencyAccess, Grant
from protection.rls import (
    PatientGuards,
    PatientIdForNumber,
    relation_kind_counts,
    system_context,
)
from tests.conftest import SAMPLE_NAVET
from tests.factories import PatientIdentityFactory, PatientRelationFactory, UserFactory
from tests.patients import navet_files as nf
from tests.sealed import number_digest, opened, sealed

ORDINARY = "198912222398"
PROTECTED = "198912232389"
SPOUSE = "198912232397"  # unprotected, but the protected patient's register names them (PROT-5)
NOT_A_PATIENT = "198912242388"
RESERVE = "RES-2026-0001"
MIGRATION = "0004_row_level_security"


def rows(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found: list[tuple[Any, ...]] = cursor.fetchall()
    return found


def execute(sql: str, params: list[Any] | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        count: int = cursor.rowcount
    return count


def visible_patient_ids() -> set[int]:
    return {pid for (pid,) in rows("SELECT patient_id FROM patients_patientidentity")}


def as_user(user: Any) -> None:
    rows("SELECT set_config('hjm.user_id', %s, true)", [str(user.pk)])


def setting(name: str) -> str:
    ((value,),) = rows("SELECT coalesce(current_setting(%s, true), '')", [name])
    return str(value)


@pytest.fixture
def enforced(db: None, _test_code_sees_every_patient: None) -> None:
    """This test's own queries are bound by the policies, as the application's are."""
    rows("SELECT set_config('hjm.context', '', true)")


@pytest.fixture
def world(db: None, _test_code_sees_every_patient: None) -> dict[str, Any]:
    """An ordinary, a protected and a linked patient, and users with every kind of right.

    Made in the system context (as the Navet import would), then the test runs without it.
    """
    now = timezone.now()
    ordinary = PatientIdentityFactory(personal_identity_number=ORDINARY)
    PatientRelationFactory(patient=ordinary.patient, related_identity_number=NOT_A_PATIENT)
    protected = PatientIdentityFactory(
        personal_identity_number=PROTECTED,
        reserve_number=RESERVE,
        given_names="Hemlig",
        surname="Gömdasson",
    )
    Patient.objects.filter(pk=protected.pk).update(protected_registration=True)
    spouse = PatientIdentityFactory(personal_identity_number=SPOUSE, given_names="Make")
    PatientRelationFactory(patient=protected.patient, related_identity_number=SPOUSE)
    users = {name: UserFactory(username=name) for name in ("granted", "expired", "ended", "later")}
    users |= {name: UserFactory(username=name) for name in ("emergency", "lapsed", "nobody")}

    def grant(user: Any, starts: timedelta, ends: timedelta, **extra: Any) -> None:
        Grant.objects.create(
            user=user,
            patient=protected.patient,
            starts_at=now + starts,
            ends_at=now + ends,
            **extra,
        )

    day = timedelta(days=1)
    grant(users["granted"], -day, 30 * day)
    grant(users["expired"], -30 * day, -day)
    grant(users["ended"], -day, 30 * day, ended_at=now - timedelta(hours=1))
    grant(users["later"], day, 30 * day)
    EmergencyAccess.objects.create(
        user=users["emergency"],
        patient=protected.patient,
        reason="Ambulanslarm",
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(minutes=55),
    )
    EmergencyAccess.objects.create(
        user=users["lapsed"],
        patient=protected.patient,
        reason="Ambulanslarm",
        starts_at=now - timedelta(hours=2),
        ends_at=now - timedelta(hours=1),
    )
    rows("SELECT set_config('hjm.context', '', true)")
    return {
        "ordinary": ordinary.pk,
        "protected": protected.pk,
        "spouse": spouse.pk,
        **users,
    }


# --- what a raw query sees ---------------------------------------------------------------------


def test_access_1_without_a_user_a_raw_select_returns_unprotected_rows_only(world):
    everything = rows("SELECT * FROM patients_patientidentity")
    assert {row[0] for row in everything} == {world["ordinary"]}
    assert rows("SELECT count(*) FROM patients_patientidentity") == [(1,)]
    text = repr(everything)
    for secret in (PROTECTED, RESERVE, "Hemlig", "Gömdasson", SPOUSE, "Make"):
        assert secret not in text
    # Asking for the row by its number or its id finds nothing either.
    assert (
        rows(
            "SELECT 1 FROM patients_patientidentity WHERE personal_identity_number = %s",
            [PROTECTED],
        )
        == []
    )
    assert not PatientIdentity.objects.filter(pk=world["protected"]).exists()


def test_access_1_a_grant_in_force_opens_the_protected_row_and_its_linked_person(world):
    as_user(world["granted"])
    assert visible_patient_ids() == {world["ordinary"], world["protected"], world["spouse"]}
    assert rows("SELECT count(*) FROM patients_patientidentity") == [(3,)]
    ((surname,),) = rows(
        "SELECT surname FROM patients_patientidentity WHERE patient_id = %s", [world["protected"]]
    )
    assert opened(PatientIdentity, "surname", surname) == "Gömdasson"


@pytest.mark.parametrize("user", ["expired", "ended", "later", "nobody"])
def test_access_2_an_expired_ended_or_future_grant_opens_nothing(world, user):
    as_user(world[user])
    assert visible_patient_ids() == {world["ordinary"]}


def test_access_7_emergency_access_in_force_opens_the_row_and_a_lapsed_one_does_not(world):
    as_user(world["emergency"])
    assert visible_patient_ids() == {world["ordinary"], world["protected"], world["spouse"]}
    as_user(world["lapsed"])
    assert visible_patient_ids() == {world["ordinary"]}


def test_access_1_the_system_context_sees_every_row_for_its_transaction_only(world):
    with system_context():
        assert visible_patient_ids() == {world["ordinary"], world["protected"], world["spouse"]}
        assert setting("hjm.context") == "system"
    assert setting("hjm.context") == ""
    assert visible_patient_ids() == {world["ordinary"]}
    with pytest.raises(RuntimeError), system_context():
        raise RuntimeError  # leaving by an exception rolls the setting back with the savepoint
    assert setting("hjm.context") == ""


def test_prot_5_a_patient_linked_to_a_protected_one_is_hidden_too(world):
    """The spouse is no protected patient, but the protected patient's register names them."""
    assert world["spouse"] not in visible_patient_ids()
    as_user(world["granted"])
    assert world["spouse"] in visible_patient_ids()


def _relation_numbers() -> set[str]:
    return {
        opened(PatientRelation, "related_identity_number", number)
        for (number,) in rows("SELECT related_identity_number FROM patients_patientrelation")
    }


def test_prot_5_relations_of_a_protected_patient_are_hidden(world):
    assert _relation_numbers() == {NOT_A_PATIENT}
    as_user(world["granted"])
    assert _relation_numbers() == {NOT_A_PATIENT, SPOUSE}


def test_leak_1_changes_to_a_hidden_row_affect_nothing(world):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE patients_patientidentity SET surname = 'Ändrad' WHERE patient_id = %s",
            [world["protected"]],
        )
        assert cursor.rowcount == 0
        cursor.execute("UPDATE patients_patientidentity SET surname = 'Ändrad'")
        assert cursor.rowcount == 1  # the ordinary patient's only
        cursor.execute(
            "DELETE FROM patients_patientrelation WHERE patient_id = %s", [world["protected"]]
        )
        assert cursor.rowcount == 0
    with system_context():
        ((surname,),) = rows(
            "SELECT surname FROM patients_patientidentity WHERE patient_id = %s",
            [world["protected"]],
        )
        assert opened(PatientIdentity, "surname", surname) == "Gömdasson"
        assert rows(
            "SELECT count(*) FROM patients_patientrelation WHERE patient_id = %s",
            [world["protected"]],
        ) == [(1,)]


def test_leak_1_rows_for_a_protected_patient_cannot_be_planted_without_rights(world):
    insert = (
        "INSERT INTO patients_patientrelation (patient_id, kind, related_identity_number) "
        "VALUES (%s, 'B', %s)"
    )
    number = sealed(PatientRelation, "related_identity_number", NOT_A_PATIENT)
    with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
        execute(insert, [world["protected"], number])
    as_user(world["granted"])
    assert execute(insert, [world["protected"], number]) == 1


# --- the role cannot get around it -------------------------------------------------------------


def test_leak_1_the_application_role_is_no_superuser_and_owns_no_identifying_table(enforced):
    ((user, superuser, bypass),) = rows(
        "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    assert user == settings.DATABASES["default"]["USER"]
    assert (superuser, bypass) == (False, False)
    tables = rows(
        "SELECT c.relname, pg_get_userbyid(c.relowner), c.relrowsecurity, c.relforcerowsecurity, "
        "pg_has_role(current_user, c.relowner, 'MEMBER') FROM pg_class c "
        "WHERE c.relname IN ('patients_patientidentity', 'patients_patientrelation') "
        "ORDER BY c.relname"
    )
    owner = settings.DATABASES["owner"]["USER"]
    assert tables == [
        ("patients_patientidentity", owner, True, True, False),
        ("patients_patientrelation", owner, True, True, False),
    ]
    assert owner != user


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE patients_patientidentity DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE patients_patientidentity NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY guarded_by_protection ON patients_patientidentity",
        "ALTER TABLE patients_patientrelation DISABLE ROW LEVEL SECURITY",
        'SET ROLE "{owner}"',
        "CREATE FUNCTION hjm_sees_all() RETURNS SETOF patients_patientidentity "
        "LANGUAGE sql SECURITY DEFINER AS 'SELECT * FROM patients_patientidentity'",
        "CREATE TABLE public.hjm_copy AS SELECT * FROM patients_patientidentity",
    ],
)
def test_leak_1_the_application_role_cannot_turn_row_level_security_off(enforced, statement):
    owner = settings.DATABASES["owner"]["USER"]
    with (
        pytest.raises(DatabaseError, match=r"must be owner|permission denied"),
        transaction.atomic(),
    ):
        execute(statement.replace("{owner}", owner))


def test_leak_1_switching_row_security_off_makes_the_query_fail_not_leak(world):
    execute("SET LOCAL row_security = off")
    with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
        rows("SELECT * FROM patients_patientidentity")


# --- what the gate may know of rows it cannot read ---------------------------------------------


def test_access_1_the_lookup_returns_the_patient_id_and_nothing_else(world):
    # It is given the number's digest (LEAK-6); the number itself finds nothing.
    assert rows("SELECT * FROM hjm_patient_id_for_number(%s)", [number_digest(PROTECTED)]) == [
        (world["protected"],)
    ]
    assert rows("SELECT hjm_patient_id_for_number(%s)", [PROTECTED]) == [(None,)]
    assert rows("SELECT hjm_patient_id_for_number(%s, true)", [number_digest(RESERVE)]) == [
        (world["protected"],)
    ]
    assert rows("SELECT hjm_patient_id_for_number(%s, false)", [number_digest(NOT_A_PATIENT)]) == [
        (None,)
    ]
    ((result_type,),) = rows(
        "SELECT pg_get_function_result('hjm_patient_id_for_number(text, boolean)'::regprocedure)"
    )
    assert result_type == "bigint"
    # The system context it reads in is its own: the caller's comes back unchanged.
    assert setting("hjm.context") == ""
    assert visible_patient_ids() == {world["ordinary"]}
    found = Patient.objects.filter(pk=PatientIdForNumber(PROTECTED)).values_list("pk", flat=True)
    assert list(found) == [world["protected"]]


def test_prot_5_the_guards_read_with_the_patients_leave_the_policy_on_for_every_row(world):
    # Issue 16: the gate reads the guards in the patient's own statement. The function sees
    # every row for its own call only: the identities joined in the same statement, row after
    # row, stay bound by the policy.
    read = (
        Patient.objects.select_related("identity")
        .annotate(guard_ids=PatientGuards("pk"))
        .order_by("pk")
    )
    found = {patient.pk: patient for patient in read}
    assert found[world["ordinary"]].guard_ids == []
    assert found[world["protected"]].guard_ids == [world["protected"]]
    assert found[world["spouse"]].guard_ids == [world["protected"]]

    def identity_read(patient: Patient) -> bool:
        try:
            patient.identity  # noqa: B018 - the join's row, read or hidden
        except PatientIdentity.DoesNotExist:
            return False
        return True

    assert {pk for pk, patient in found.items() if identity_read(patient)} == {world["ordinary"]}
    assert setting("hjm.context") == ""
    assert visible_patient_ids() == {world["ordinary"]}


def test_access_3_relation_kinds_are_counted_for_a_patient_the_user_cannot_open(world):
    assert relation_kind_counts(world["protected"]) == [{"kind": "M", "count": 1}]
    assert relation_kind_counts(world["ordinary"]) == [{"kind": "M", "count": 1}]


def test_leak_1_only_the_application_role_may_call_the_functions(enforced):
    functions = rows(
        "SELECT p.proname, p.prosecdef, pg_get_userbyid(p.proowner), "
        "has_function_privilege('public', p.oid, 'EXECUTE'), "
        "has_function_privilege(current_user, p.oid, 'EXECUTE'), "
        "array_to_string(p.proconfig, ',') "
        "FROM pg_proc p WHERE p.proname LIKE 'hjm\\_%' ORDER BY p.proname"
    )
    owner = settings.DATABASES["owner"]["USER"]
    search_path = "search_path=pg_catalog, public, pg_temp"
    assert functions == [
        ("hjm_identity_visible", True, owner, False, True, search_path),
        ("hjm_patient_guards", True, owner, False, True, search_path),
        ("hjm_patient_id_for_number", True, owner, False, True, search_path),
        ("hjm_patient_relation_kinds", True, owner, False, True, search_path),
    ]


# --- requests: the middleware names the user for every query -----------------------------------


def _identity_ids(request: HttpRequest) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT patient_id FROM patients_patientidentity ORDER BY patient_id")
        return [pid for (pid,) in cursor.fetchall()]


def raw_query_view(request: HttpRequest) -> HttpResponse:
    assert request.user.is_authenticated or request.user.is_anonymous  # as any decorator would
    return JsonResponse({"ids": _identity_ids(request)})


def rendered_later_view(request: HttpRequest) -> HttpResponse:
    """The query runs while the response is rendered, after the view has returned."""
    assert request.user.is_authenticated or request.user.is_anonymous
    template = engines["django"].from_string("{% for id in ids %}{{ id }} {% endfor %}")
    return TemplateResponse(request, template, {"ids": lambda: _identity_ids(request)})


class _Undo(Exception):
    pass


def rolled_back_block_view(request: HttpRequest) -> HttpResponse:
    """The user becomes known inside a savepoint that is rolled back, which undoes a setting
    made in it; the query after it must still run as the user."""
    try:
        with transaction.atomic():
            assert request.user.is_authenticated
            inside = _identity_ids(request)
            raise _Undo
    except _Undo:
        pass
    return JsonResponse({"inside": inside, "after": _identity_ids(request)})


def failing_view(request: HttpRequest) -> HttpResponse:
    assert request.user.is_authenticated
    _identity_ids(request)
    raise RuntimeError("the view failed")


urlpatterns = [
    path("raw/", raw_query_view),
    path("rendered-later/", rendered_later_view),
    path("rolled-back/", rolled_back_block_view),
    path("failing/", failing_view),
]


@pytest.mark.urls(__name__)
def test_access_1_a_raw_query_in_a_view_sees_only_what_the_gate_allows(client, world):
    everyone = [world["ordinary"], world["protected"], world["spouse"]]
    assert client.get("/raw/").json() == {"ids": [world["ordinary"]]}
    client.force_login(world["nobody"])
    assert client.get("/raw/").json() == {"ids": [world["ordinary"]]}
    client.force_login(world["granted"])
    assert client.get("/raw/").json() == {"ids": sorted(everyone)}
    rendered = client.get("/rendered-later/").content.decode().split()
    assert sorted(int(pid) for pid in rendered) == sorted(everyone)
    # The request's user does not stay on the connection.
    assert setting("hjm.user_id") == ""
    assert visible_patient_ids() == {world["ordinary"]}


@pytest.mark.urls(__name__)
def test_access_1_the_user_holds_after_a_rolled_back_block_and_leaves_with_a_failed_view(
    client, world
):
    everyone = sorted([world["ordinary"], world["protected"], world["spouse"]])
    client.force_login(world["granted"])
    assert client.get("/rolled-back/").json() == {"inside": everyone, "after": everyone}
    with pytest.raises(RuntimeError, match="the view failed"):
        client.get("/failing/")
    assert setting("hjm.user_id") == ""
    assert visible_patient_ids() == {world["ordinary"]}


# --- the system jobs still see everyone --------------------------------------------------------


def _identity_row(number: str) -> tuple[Any, ...] | None:
    with system_context():
        found = rows(
            "SELECT i.surname, p.is_protected FROM patients_patientidentity i "
            "JOIN patients_patient p ON p.id = i.patient_id "
            "WHERE left(i.personal_identity_number, 64) = %s",
            [number_digest(number)],
        )
    if not found:
        return None
    surname, protected = found[0]
    return opened(PatientIdentity, "surname", surname), protected


def test_prot_1_the_navet_import_creates_and_updates_protected_patients(enforced, tmp_path: Path):
    maria, spouse = "194201199124", "194202138014"  # protected in the sample file, and her spouse
    call_command("import_navet", str(SAMPLE_NAVET), "--json", stdout=StringIO())
    assert _identity_row(maria) == ("Ek", True)
    assert rows("SELECT count(*) FROM patients_patientidentity")[0][0] < Patient.objects.count()

    update = nf.write(
        tmp_path,
        nf.document(
            nf.post(
                maria, secrecy="J", given="Maria", surname="Ekström",
                relations=nf.relation("M", spouse),
            )
        ),
    )  # fmt: skip
    out = StringIO()
    call_command("import_navet", str(update), "--json", stdout=out)
    assert '"updated": 1' in out.getvalue()
    assert _identity_row(maria) == ("Ekström", True)
    with system_context():
        ((related,),) = rows(
            "SELECT r.related_identity_number FROM patients_patientrelation r "
            "JOIN patients_patientidentity i ON i.patient_id = r.patient_id "
            "WHERE left(i.personal_identity_number, 64) = %s",
            [number_digest(maria)],
        )
        assert opened(PatientRelation, "related_identity_number", related) == spouse


def test_leak_3_key_rotation_reaches_protected_patients(world):
    old_key_first = dict(reversed(list(settings.FIELD_ENCRYPTION_KEYS.items())))
    with override_settings(FIELD_ENCRYPTION_KEYS=old_key_first), system_context():
        PatientIdentity.objects.filter(pk=world["protected"]).update(phone=None)
        identity = PatientIdentity.objects.get(pk=world["protected"])
        identity.phone = "070-1740605"
        identity.save(update_fields=["phone"])
    old_kid = next(iter(old_key_first))

    def phone_token() -> str:
        with system_context():
            ((token,),) = rows(
                "SELECT phone FROM patients_patientidentity WHERE patient_id = %s",
                [world["protected"]],
            )
        return str(token)

    assert phone_token().startswith(f"{old_kid}:")
    with pytest.raises(CommandError, match="not under the current key"):
        call_command("rotate_encryption_key", "--check", stdout=StringIO())
    call_command("rotate_encryption_key", stdout=StringIO())
    assert phone_token().startswith(f"{next(iter(settings.FIELD_ENCRYPTION_KEYS))}:")
    call_command("rotate_encryption_key", "--check", stdout=StringIO())


# --- the migration -----------------------------------------------------------------------------


def _rls_state(cursor: Any) -> list[tuple[Any, ...]]:
    cursor.execute(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
        "(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid), "
        "(SELECT count(*) FROM pg_proc f WHERE f.proname LIKE 'hjm\\_%') "
        "FROM pg_class c "
        "WHERE c.relname IN ('patients_patientidentity', 'patients_patientrelation') "
        "ORDER BY c.relname"
    )
    state: list[tuple[Any, ...]] = cursor.fetchall()
    return state


@pytest.mark.django_db(databases=["default", "owner"])
def test_leak_1_the_migration_reverses_to_no_row_level_security_and_applies_again():
    """Run as the owner in the test's transaction on that connection, rolled back at the end.

    The application's connection must not touch the tables meanwhile: the owner's ALTER TABLE
    would wait for its locks.
    """
    owner = connections["owner"]
    executor = MigrationExecutor(owner)
    migration = executor.loader.get_migration("protection", MIGRATION)
    (previous,) = [dep for dep in migration.dependencies if dep[0] == "protection"]
    with owner.cursor() as cursor:
        cursor.execute("SET LOCAL lock_timeout = '10s'")
        # Three functions from this migration, hjm_patient_guards from 0007.
        assert _rls_state(cursor) == [
            ("patients_patientidentity", True, True, 1, 4),
            ("patients_patientrelation", True, True, 1, 4),
        ]
    executor.migrate([previous])
    with owner.cursor() as cursor:
        assert _rls_state(cursor) == [
            ("patients_patientidentity", False, False, 0, 0),
            ("patients_patientrelation", False, False, 0, 0),
        ]
    executor = MigrationExecutor(owner)
    executor.migrate([("protection", MIGRATION)])
    with owner.cursor() as cursor:
        assert _rls_state(cursor)[0] == ("patients_patientidentity", True, True, 1, 3)


def test_access_1_db_context_hands_back_the_callers_context(enforced):
    with transaction.atomic():
        rows("SELECT set_config('hjm.context', 'outer', true)")
        with db_context("system"):
            assert setting("hjm.context") == "system"
        assert setting("hjm.context") == "outer"


# --- the settings ------------------------------------------------------------------------------


def test_leak_1_settings_refuse_the_application_role_as_the_owner(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db:5432/hjm")
    monkeypatch.setenv("DATABASE_OWNER_URL", "postgres://app:other@db:5432/hjm")
    with pytest.raises(env.ConfigurationError, match="must use different roles"):
        env.databases(app_required=True)


def test_leak_1_settings_give_the_owner_its_own_alias_and_production_may_leave_it_out(
    monkeypatch,
):
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db:5432/hjm")
    monkeypatch.delenv("DATABASE_OWNER_URL", raising=False)
    assert set(env.databases(app_required=True) or {}) == {"default"}
    monkeypatch.setenv("DATABASE_OWNER_URL", "postgres://owner@db:5432/hjm")
    aliases = env.databases(app_required=True) or {}
    assert (aliases["default"]["USER"], aliases["owner"]["USER"]) == ("app", "owner")
    monkeypatch.delenv("DATABASE_URL")
    with pytest.raises(env.ConfigurationError, match="DATABASE_OWNER_URL is set but"):
        env.databases(app_required=False)


def test_leak_1_a_protected_persons_number_change_is_hidden(world):
    """The old-to-new number mapping of a protected person is what a persecutor needs."""
    from patients.models import NumberChange, RegisterFile

    rows("SELECT set_config('hjm.context', 'system', true)")
    register_file = RegisterFile.objects.create(
        identity_key="t:1", file_name="t.xml", content_sha256="0" * 64
    )
    for patient_id, old in ((world["protected"], "198912232397"), (world["ordinary"], "1")):
        NumberChange.objects.create(
            patient_id=patient_id, old_number=old, new_number="x", register_file=register_file
        )
    rows("SELECT set_config('hjm.context', '', true)")
    seen = {pid for (pid,) in rows("SELECT patient_id FROM patients_numberchange")}
    assert seen == {world["ordinary"]}
    as_user(world["granted"])
    seen = {pid for (pid,) in rows("SELECT patient_id FROM patients_numberchange")}
    assert seen == {world["ordinary"], world["protected"]}
