"""LEAK-6, AUDIT-2: the history and audit tables cannot be emptied or rewritten by the role the
product connects as, whatever session settings it sets.

The history is pghistory's event tables (with their contexts, ``pghistory_context``), the
state-transition tables (``TransitionRecord``), the access log and the emergency accesses that
wait for review. pghistory's append-only triggers skip themselves when a session names them in
``pgtrigger.ignore``, which any role may set; what holds against the application role is that it
lacks the privileges to update or delete those rows, and triggers that consult no setting.
These tests run their SQL as the application role, like every test.
"""

from __future__ import annotations

from typing import Any

import pghistory
import pghistory.models
import pytest
from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.db import DatabaseError, connection, transaction
from django.db.models import Model

from patients.models import AccessEntry
from patients.transitions import TransitionRecord
from prescriptions.models import CompetenceDecision
from protection.models import AccountEvent, EmergencyAccess
from tests.factories import UnitFactory, UserFactory

pytestmark = pytest.mark.django_db

# Columns the application role may still update, and why: the review of an emergency access
# (ACCESS-7, protection.services.review) and pghistory's upsert of the request's context.
UPDATABLE_COLUMNS = {
    "protection_emergencyaccess": {"reviewed_by_id", "reviewed_at", "review_note"},
    "pghistory_context": {"metadata", "updated_at"},
}


def history_models() -> list[type[Model]]:
    """Every history and audit table of the product, found the way a new one would be."""
    found = [
        model
        for model in apps.get_models()
        if issubclass(model, pghistory.models.Event | TransitionRecord)
        and not model._meta.proxy
        and model._meta.managed
    ]
    return [
        *found,
        AccessEntry,
        EmergencyAccess,
        pghistory.models.Context,
        AccountEvent,
        LogEntry,  # the admin's own history, account changes made in the admin among them
        CompetenceDecision,  # STAFF-3: a newer level is a new decision, the old one stays
    ]


def rows(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def refused(sql: str, params: list[Any] | None = None) -> str:
    """Run ``sql`` in a savepoint as the application role; fail if the database let it through."""
    with pytest.raises(DatabaseError) as failure, transaction.atomic(), connection.cursor() as c:
        c.execute(sql, params)
    return str(failure.value)


def test_leak_6_every_history_table_is_found():
    """The list below is not empty by accident: the known tables are in it."""
    tables = {model._meta.db_table for model in history_models()}
    assert {
        "patients_patientevent",
        "patients_accessentry",
        "protection_grantevent",
        "protection_emergencyaccess",
        "protection_grantrequesttransition",
        "prescriptions_prescriptiontransition",
        "prescriptions_supplyregistrationtransition",
        "pghistory_context",
        "protection_accountevent",
        "django_admin_log",
    } <= tables


@pytest.mark.parametrize("model", history_models(), ids=lambda model: model._meta.db_table)
def test_leak_6_the_application_role_can_neither_delete_nor_update_history(model):
    """A table added later gets full privileges by default (0004_row_level_security): its
    migration must take UPDATE and DELETE away again (``patients.dbroles``), as protection 0011
    and prescriptions 0012 do."""
    table = model._meta.db_table
    ((delete, update),) = rows(
        "SELECT has_table_privilege(current_user, %s, 'DELETE'), "
        "has_table_privilege(current_user, %s, 'UPDATE')",
        [table, table],
    )
    assert (delete, update) == (False, False)
    updatable = {
        name
        for (name,) in rows(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = %s "
            "AND has_column_privilege(current_user, %s::regclass, column_name, 'UPDATE')",
            [table, table],
        )
    }
    assert updatable == UPDATABLE_COLUMNS.get(table, set())


@pytest.mark.parametrize("statement", ["UPDATE {t} SET name = 'Omskriven'", "DELETE FROM {t}"])
def test_leak_6_setting_pgtrigger_ignore_does_not_open_the_history(statement):
    """pgtrigger's triggers skip themselves for the names in ``pgtrigger.ignore``; naming every
    trigger of the table there must still not let the application role change its history."""
    unit = UnitFactory(name="Ortopeden")
    assert apps.get_model("patients.UnitEvent").objects.filter(pgh_obj_id=unit.pk).exists()
    names = [name for (name,) in rows(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'patients_unitevent'::regclass "
        "AND NOT tgisinternal"
    )]  # fmt: skip
    assert names
    message = refused(
        "SELECT set_config('pgtrigger.ignore', %s, true); "
        + statement.format(t="patients_unitevent"),
        ["{" + ",".join(names) + "}"],
    )
    assert "permission denied" in message
    assert apps.get_model("patients.UnitEvent").objects.get(pgh_obj_id=unit.pk).name == "Ortopeden"


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM protection_grantrequesttransition",
        "UPDATE protection_grantrequesttransition SET note = 'omskriven'",
        "UPDATE protection_grantrequesttransition SET by_id = NULL",
    ],
)
def test_leak_6_transition_history_cannot_be_rewritten(statement):
    assert "permission denied" in refused(statement)


def test_leak_6_an_emergency_access_cannot_be_deleted_or_rewritten(protected):
    """ACCESS-7: a deleted or rewritten emergency access would drop out of the review queue."""
    user, reviewer = UserFactory(role="prescriber"), UserFactory(role="protection_admin")
    access = EmergencyAccess.objects.create(
        user=user, patient=protected.patient, reason="Akut", ends_at="2099-01-01T00:00Z"
    )
    assert "permission denied" in refused(
        "DELETE FROM protection_emergencyaccess WHERE id = %s", [access.pk]
    )
    for change in ("reason = 'annat'", f"user_id = {reviewer.pk}", "ends_at = now()"):
        assert "permission denied" in refused(
            f"UPDATE protection_emergencyaccess SET {change} WHERE id = %s",  # noqa: S608
            [access.pk],
        )
    # The review itself, once: what protection.services.review writes.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE protection_emergencyaccess SET reviewed_by_id = %s, reviewed_at = now(), "
            "review_note = 'Befogad' WHERE id = %s",
            [reviewer.pk, access.pk],
        )
    message = refused(
        "UPDATE protection_emergencyaccess SET reviewed_at = NULL, reviewed_by_id = NULL, "
        "review_note = '' WHERE id = %s",
        [access.pk],
    )
    assert "reviewed once" in message
    assert "reviewed once" in refused(
        "UPDATE protection_emergencyaccess SET review_note = 'Annat' WHERE id = %s", [access.pk]
    )


def test_leak_6_history_context_can_be_extended_within_its_own_transaction():
    """What pghistory does within one transaction: the context it attached grows a key."""
    with transaction.atomic(), pghistory.context(url="/a/"):
        unit = UnitFactory.create(name="Syncentralen")
        pghistory.context(user=7)
        unit.name = "Syncentralen Väst"
        unit.save()
    event = apps.get_model("patients.UnitEvent").objects.filter(pgh_obj_id=unit.pk).last()
    assert event is not None
    assert event.pgh_context.metadata == {"url": "/a/", "user": 7}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_leak_6_a_past_history_context_cannot_be_rewritten():
    """LEAK-6: who made a change, and from which page, stays as recorded once its transaction
    has committed: neither directly nor through pghistory's upsert of a reused context id."""
    with pghistory.context(user=1, url="/grants/"):
        unit = UnitFactory(name="Hörselvården")
    event = apps.get_model("patients.UnitEvent").objects.get(pgh_obj_id=unit.pk)
    context_id = str(event.pgh_context_id)
    recorded = {"user": 1, "url": "/grants/"}

    assert "history context" in refused(
        "UPDATE pghistory_context SET metadata = '{\"user\": 2}' WHERE id = %s", [context_id]
    )
    assert "history context" in refused(
        "SELECT set_config('pghistory.context_id', %s, true), "
        "set_config('pghistory.context_metadata', '{\"user\": 2}', true); "
        "UPDATE patients_unit SET name = 'Hörselvården Syd' WHERE id = %s",
        [context_id, unit.pk],
    )
    assert "permission denied" in refused(
        "DELETE FROM pghistory_context WHERE id = %s", [context_id]
    )
    assert "permission denied" in refused(
        "UPDATE pghistory_context SET created_at = now() WHERE id = %s", [context_id]
    )
    assert pghistory.models.Context.objects.get(pk=context_id).metadata == recorded
