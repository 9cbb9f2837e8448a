"""Numbers are found through an index under row-level security (issue 16, patients 0014).

The identity and relation tables force row-level security, also inside the functions that run
as their owner. PostgreSQL then checks the policy on a row before any condition that is not
leakproof, and ``left(<number>, 64)`` is not: an index on that expression could never be used,
and at 1.7 million patients a search by number read the whole table. The digests are now
generated columns with plain indexes (text equality is leakproof). These tests ask the planner,
with sequential scans made as costly as it allows, whether it still finds the row by index:
with the old expression it could not.
"""

from __future__ import annotations

import pytest
from django.db import connection

from patients.models import PatientIdentity, PatientRelation
from tests.factories import PatientIdentityFactory, PatientRelationFactory
from tests.sealed import number_digest

pytestmark = pytest.mark.django_db

NUMBER = "189001019802"


def _plan(sql: str, params: list[object]) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_a_lookup_by_number_compares_the_digest_column() -> None:
    query = PatientIdentity.objects.filter(personal_identity_number=NUMBER).query
    sql = str(query)
    assert '"patients_patientidentity"."number_digest" =' in sql
    assert "LEFT(" not in sql.upper()
    relation = str(PatientRelation.objects.filter(related_identity_number=NUMBER).query)
    assert '"patients_patientrelation"."related_digest" =' in relation


def test_the_application_role_finds_a_number_by_index_under_row_level_security() -> None:
    identity = PatientIdentityFactory(personal_identity_number=NUMBER)
    PatientRelationFactory(patient=identity.patient, related_identity_number="189001029819")
    sql, params = (
        PatientIdentity.objects.filter(personal_identity_number=NUMBER)
        .values("pk")
        .query.sql_with_params()
    )
    plan = _plan(sql, list(params))
    # The policy is there (the application's role is subject to it) ...
    assert "hjm_identity_visible" in plan
    # ... and the row is still found through the unique index on the digest.
    assert "identity_number_unique" in plan, plan
    relation_plan = _plan(
        "SELECT id FROM patients_patientrelation WHERE related_digest = %s",
        [number_digest("189001029819")],
    )
    assert "relation_number_idx" in relation_plan or "relation_unique" in relation_plan, (
        relation_plan
    )


def test_the_gates_lookup_function_finds_the_patient_by_number() -> None:
    identity = PatientIdentityFactory(personal_identity_number=NUMBER)
    with connection.cursor() as cursor:
        cursor.execute("SELECT hjm_patient_id_for_number(%s)", [number_digest(NUMBER)])
        assert cursor.fetchone() == (identity.patient_id,)


def test_a_check_constraint_on_a_number_compiles_with_the_expression() -> None:
    """DDL compiles columns without a table alias: the sealed-number check keeps LEFT(...)."""
    constraint = next(
        c for c in PatientRelation._meta.constraints if c.name == "relation_number_sealed"
    )
    with connection.schema_editor(collect_sql=True) as editor:
        sql = str(constraint.constraint_sql(PatientRelation, editor))
    assert 'LEFT("related_identity_number", 64)' in sql
