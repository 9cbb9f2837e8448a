"""AUDIT-2: the access log is append-only and hash-chained; AUDIT-4: it holds no personal data.
Sealing under concurrency and on a real worker: test_audit_chain_concurrency.py.

Everything runs on the real PostgreSQL: the trigger, the advisory lock and the server-side
cursor are the database's. Tampering is simulated as an attacker who owns the table would do it:
with the trigger disabled for the duration of the change.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from io import StringIO
from typing import Any

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import ProgrammingError, connection, transaction
from django.test import override_settings

from patients import tasks
from patients.audit import (
    GENESIS_HASH,
    HASHED_FIELDS,
    access_entries_seal,
    chain_head,
    entry_hash_compute,
    unsealed_count,
)
from patients.models import AccessEntry
from patients.tasks import export_audit_head, seal_access_entries
from tests.audit_log import record, trigger_disabled, verify
from tests.factories import PatientIdentityFactory, UserFactory
from tests.personas import ORDINARY_NUMBER

# Every column an access entry records (AUDIT-1), with a different value for each, to prove the
# trigger keeps each of them as inserted.
RECORDED_COLUMN_CHANGES = {
    "at": "at = at - interval '1 day'",
    "user_id": "user_id = NULL",
    "unit_id": "unit_id = NULL",
    "action": "action = 'export'",
    "object_type": "object_type = 'document'",
    "object_id": "object_id = 'tampered'",
    "patient_id": "patient_id = NULL",
    "patient_protected": "patient_protected = NOT patient_protected",
    "outcome": "outcome = 'allowed'",
    "ip_address": "ip_address = '192.0.2.1'",
    "session_ref": "session_ref = 'ffffffffffffffff'",
}


def verify_fails(*args: str) -> str:
    with pytest.raises(CommandError) as failure:
        verify(*args)
    assert failure.value.returncode == 1
    return str(failure.value)


def sealed_chain(cursor: Any = None) -> list[dict[str, Any]]:
    """The sealed entries in chain order; through ``cursor`` to see the owner's uncommitted
    tampering from inside its transaction."""
    if cursor is None:
        return list(
            AccessEntry.objects.filter(chain_seq__isnull=False)
            .order_by("chain_seq")
            .values(*HASHED_FIELDS, "chain_seq", "prev_hash", "entry_hash")
        )
    columns = [*HASHED_FIELDS, "chain_seq", "prev_hash", "entry_hash"]
    cursor.execute(
        f"SELECT {', '.join(columns)} FROM patients_accessentry "  # noqa: S608 - fixed names
        "WHERE chain_seq IS NOT NULL ORDER BY chain_seq"
    )
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def refused(sql: str, params: list[Any] | None = None) -> str:
    """Run ``sql`` as the application role in a savepoint and return the database's message;
    fail if it was allowed."""
    with pytest.raises(ProgrammingError) as failure, transaction.atomic(), connection.cursor() as c:
        c.execute(sql, params)
    return str(failure.value)


def rehash_from(cursor: Any, chain_seq: int) -> None:
    """Recompute the chain from ``chain_seq`` on, as an attacker covering a change would."""
    chain = sealed_chain(cursor)
    prev_hash = chain[chain_seq - 2]["entry_hash"] if chain_seq > 1 else GENESIS_HASH
    for entry in chain[chain_seq - 1 :]:
        new_hash = entry_hash_compute(prev_hash=prev_hash, entry=entry)
        cursor.execute(
            "UPDATE patients_accessentry SET prev_hash = %s, entry_hash = %s WHERE id = %s",
            [prev_hash, new_hash, entry["id"]],
        )
        prev_hash = new_hash


# --- sealing ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_audit_2_sealing_links_every_entry_to_the_one_before_and_verify_passes():
    entries = record(4)
    assert unsealed_count() == 4
    assert AccessEntry.objects.filter(entry_hash__isnull=False).count() == 0  # insert: unsealed

    assert access_entries_seal() == 4

    chain = sealed_chain()
    assert [entry["id"] for entry in chain] == [entry.pk for entry in entries]
    assert [entry["chain_seq"] for entry in chain] == [1, 2, 3, 4]
    assert chain[0]["prev_hash"] == GENESIS_HASH
    for before, entry in itertools.pairwise(chain):
        assert entry["prev_hash"] == before["entry_hash"]
    for entry in chain:
        assert entry["entry_hash"] == entry_hash_compute(prev_hash=entry["prev_hash"], entry=entry)
    output = verify()
    assert "Audit chain intact: 4 entries verified" in output
    assert chain[-1]["entry_hash"] in output
    assert "0 entries not yet sealed" in output


@pytest.mark.django_db
def test_audit_2_sealing_in_batches_continues_one_chain_and_reports_unsealed():
    record(5)
    assert [access_entries_seal(batch_size=2) for _ in range(4)] == [2, 2, 1, 0]
    record(1)

    output = verify("--batch-size", "2")
    assert "5 entries verified" in output
    assert "1 entries not yet sealed" in output  # not sealed yet is not an error
    assert [entry["chain_seq"] for entry in sealed_chain()] == [1, 2, 3, 4, 5]


@pytest.mark.django_db
def test_audit_2_the_sealing_task_is_safe_to_run_twice_and_seals_a_backlog(monkeypatch):
    monkeypatch.setattr(tasks, "SEAL_BATCH_SIZE", 2)
    record(5)
    assert seal_access_entries() == 5  # one run seals the whole backlog, batch by batch
    assert seal_access_entries() == 0
    assert "5 entries verified" in verify()


@pytest.mark.django_db
def test_audit_2_hash_covers_every_recorded_column():
    """Changing any one recorded value changes the entry's hash."""
    (entry,) = record(1)
    values = AccessEntry.objects.values(*HASHED_FIELDS).get(pk=entry.pk)
    original = entry_hash_compute(prev_hash=GENESIS_HASH, entry=values)
    changed = {
        "id": values["id"] + 1,
        "at": values["at"].replace(microsecond=(values["at"].microsecond + 1) % 1_000_000),
        "user_id": 1,
        "unit_id": 1,
        "action": "export",
        "object_type": "document",
        "object_id": "tampered",
        "patient_id": None,
        "patient_protected": True,
        "outcome": "allowed",
        "ip_address": "192.0.2.1",
        "session_ref": "ffffffffffffffff",
    }
    assert set(changed) == set(HASHED_FIELDS)
    for name, value in changed.items():
        assert entry_hash_compute(prev_hash=GENESIS_HASH, entry={**values, name: value}) != (
            original
        ), name
    assert entry_hash_compute(prev_hash="1" * 64, entry=values) != original


# --- append-only at the database level ------------------------------------------------------
# The application role may not update or delete an access entry at all (LEAK-6; sealing is the
# database's function, test_audit_chain_sealer.py). The trigger binds the owner too, which can
# only get past it by disabling it: these run as the owner, in a transaction rolled back after.


@pytest.fixture
def as_owner(owner_connection: psycopg.Connection[Any]) -> Iterator[psycopg.Cursor[Any]]:
    with owner_connection.transaction(force_rollback=True), owner_connection.cursor() as cursor:
        yield cursor


def owner_entry(cursor: psycopg.Cursor[Any], *, sealed: bool) -> int:
    """An entry inserted (and sealed) in the owner's transaction, which the test cannot see."""
    cursor.execute(
        "INSERT INTO patients_accessentry (at, action, object_type, object_id, "
        "patient_protected, outcome, ip_address, session_ref) VALUES (now(), 'read', 'patient', "
        "'P-1', false, 'denied', '10.1.2.3', '0123456789abcdef') RETURNING id"
    )
    row = cursor.fetchone()
    assert row is not None
    if sealed:
        cursor.execute("SELECT audit_access_entries_seal(1000)")
    entry_id: int = row[0]
    return entry_id


def owner_refused(cursor: psycopg.Cursor[Any], sql: str, params: list[Any]) -> str:
    """Run ``sql`` as the owner in a savepoint and return the trigger's message."""
    with pytest.raises(psycopg.errors.RaiseException) as failure, cursor.connection.transaction():
        cursor.execute(sql, params)
    return str(failure.value)


@pytest.mark.django_db
@pytest.mark.parametrize("sealed", [False, True], ids=["unsealed", "sealed"])
@pytest.mark.parametrize("column", sorted(RECORDED_COLUMN_CHANGES))
def test_audit_2_update_of_a_recorded_column_is_refused_by_the_database(column, sealed, as_owner):
    entry_id = owner_entry(as_owner, sealed=sealed)
    message = owner_refused(
        as_owner,
        f"UPDATE patients_accessentry SET {RECORDED_COLUMN_CHANGES[column]} WHERE id = %s",  # noqa: S608
        [entry_id],
    )
    assert "append-only (AUDIT-2)" in message
    assert f"access entry {entry_id} can only be sealed" in message


@pytest.mark.django_db
def test_audit_2_sealing_cannot_carry_another_change_along(as_owner):
    entry_id = owner_entry(as_owner, sealed=False)
    message = owner_refused(
        as_owner,
        "UPDATE patients_accessentry SET chain_seq = 1, prev_hash = %s, entry_hash = %s, "
        "sealed_at = now(), object_id = 'tampered' WHERE id = %s",
        [GENESIS_HASH, "a" * 64, entry_id],
    )
    assert "append-only (AUDIT-2)" in message


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        "entry_hash = repeat('b', 64)",
        "prev_hash = repeat('b', 64)",
        "chain_seq = chain_seq + 100",
        "sealed_at = sealed_at + interval '1 second'",
        "chain_seq = NULL, prev_hash = NULL, entry_hash = NULL, sealed_at = NULL",
    ],
)
def test_audit_2_a_sealed_entrys_chain_columns_never_change(change, as_owner):
    entry_id = owner_entry(as_owner, sealed=True)
    sql = f"UPDATE patients_accessentry SET {change} WHERE id = %s"  # noqa: S608 (constants)
    assert "append-only (AUDIT-2)" in owner_refused(as_owner, sql, [entry_id])


@pytest.mark.django_db
def test_audit_2_delete_is_refused_by_the_database(as_owner):
    entry_id = owner_entry(as_owner, sealed=True)
    message = owner_refused(as_owner, "DELETE FROM patients_accessentry WHERE id = %s", [entry_id])
    assert f"access entry {entry_id} cannot be deleted" in message


@pytest.mark.django_db
@pytest.mark.parametrize("sealed", [False, True], ids=["unsealed", "sealed"])
def test_leak_6_the_application_role_can_neither_change_nor_delete_an_entry(sealed):
    (entry,) = record(1)
    if sealed:
        access_entries_seal()
    for column in sorted(RECORDED_COLUMN_CHANGES):
        assert "permission denied" in refused(
            f"UPDATE patients_accessentry SET {RECORDED_COLUMN_CHANGES[column]} WHERE id = %s",  # noqa: S608
            [entry.pk],
        )
    assert "permission denied" in refused(
        "DELETE FROM patients_accessentry WHERE id = %s", [entry.pk]
    )
    with pytest.raises(ProgrammingError), transaction.atomic():
        AccessEntry.objects.filter(pk=entry.pk).delete()
    assert AccessEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
def test_audit_2_truncate_is_refused_by_the_database():
    record(1)
    with connection.cursor() as cursor:
        # Run the deferred foreign-key checks of the insert now: PostgreSQL will not truncate
        # a table with pending trigger events, and the refusal tested is the log's own.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert "TRUNCATE is not allowed" in refused("TRUNCATE patients_accessentry")
    assert "TRUNCATE is not allowed" in refused("TRUNCATE patients_accessentry CASCADE")
    assert AccessEntry.objects.count() == 1


@pytest.mark.django_db
def test_audit_2_truncate_of_an_empty_log_is_let_through():
    """Nothing is destroyed, and it lets the flush of a transactional test run."""
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE patients_accessentry")


@pytest.mark.django_db
def test_audit_2_an_entry_cannot_be_inserted_already_sealed():
    message = refused(
        "INSERT INTO patients_accessentry (at, action, object_type, object_id, "
        "patient_protected, outcome, session_ref, chain_seq, prev_hash, entry_hash, sealed_at) "
        "VALUES (now(), 'read', '', '', false, 'allowed', '', 1, %s, %s, now())",
        [GENESIS_HASH, "c" * 64],
    )
    assert "must be inserted unsealed" in message


# --- verification names each broken entry (several breaks: test_audit_chain_sealer.py) ------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_audit_2_verify_names_exactly_the_entry_changed_after_sealing(owner_connection):
    entries = record(5)
    access_entries_seal()
    target = entries[2]
    with trigger_disabled(owner_connection) as cursor:
        cursor.execute(
            "UPDATE patients_accessentry SET object_id = 'tampered' WHERE id = %s", [target.pk]
        )

    message = verify_fails()
    assert f"chain_seq 3 (access entry id {target.pk}): hash mismatch" in message
    assert "Audit chain broken (1 break)" in message
    assert "4 entries verified" in message
    for other in entries[:2] + entries[3:]:
        assert f"id {other.pk})" not in message


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_audit_2_verify_names_the_entry_after_a_rehashed_one_as_a_broken_link(owner_connection):
    entries = record(5)
    access_entries_seal()
    with trigger_disabled(owner_connection) as cursor:
        cursor.execute(
            "UPDATE patients_accessentry SET object_id = 'tampered' WHERE id = %s",
            [entries[2].pk],
        )
        chain = sealed_chain(cursor)
        cursor.execute(
            "UPDATE patients_accessentry SET entry_hash = %s WHERE id = %s",
            [entry_hash_compute(prev_hash=chain[2]["prev_hash"], entry=chain[2]), entries[2].pk],
        )

    message = verify_fails()
    assert f"chain_seq 3 to 4 (access entry ids {entries[2].pk} to {entries[3].pk})" in message
    assert (
        f"broken link: prev_hash of access entry id {entries[3].pk} is not the hash of access "
        f"entry id {entries[2].pk} (chain_seq 3)"
    ) in message
    assert "Audit chain broken (1 break)" in message


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_audit_2_verify_names_the_entry_after_a_removed_one_as_a_gap(owner_connection):
    entries = record(5)
    access_entries_seal()
    with trigger_disabled(owner_connection) as cursor:
        cursor.execute("DELETE FROM patients_accessentry WHERE id = %s", [entries[1].pk])

    message = verify_fails()
    assert (
        f"chain_seq 2: gap: missing between access entry id {entries[0].pk} (chain_seq 1) and "
        f"access entry id {entries[2].pk} (chain_seq 3)"
    ) in message
    assert "Audit chain broken (1 break)" in message


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_audit_2_exported_heads_catch_a_chain_rewritten_from_an_entry_onward(
    tmp_path, owner_connection
):
    """Someone with owner rights can re-hash the whole chain after a change; the chain then
    holds together, but no longer matches the heads exported outside the database."""
    entries = record(5)
    access_entries_seal(batch_size=3)
    call_command("export_audit_head", "--dir", str(tmp_path), stdout=StringIO())
    access_entries_seal()
    assert "Checked against 1 exported heads" in verify("--heads", str(tmp_path))

    with trigger_disabled(owner_connection) as cursor:
        cursor.execute(
            "UPDATE patients_accessentry SET object_id = 'tampered' WHERE id = %s",
            [entries[1].pk],
        )
        rehash_from(cursor, 2)

    assert "5 entries verified" in verify()  # the limit of a chain on its own
    message = verify_fails("--heads", str(tmp_path))
    # The rewrite lies at or before the exported head it contradicts.
    assert f"chain_seq 1 to 3 (access entry ids {entries[0].pk} to {entries[2].pk})" in message
    assert re.search(
        r"differs from the chain head exported in audit-head-[\d-]+\.jsonl line 1", message
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_audit_2_exported_heads_catch_sealed_entries_removed_from_the_end(
    tmp_path, owner_connection
):
    entries = record(4)
    access_entries_seal()
    call_command("export_audit_head", "--dir", str(tmp_path), stdout=StringIO())
    with trigger_disabled(owner_connection) as cursor:
        cursor.execute(
            "DELETE FROM patients_accessentry WHERE id IN (%s, %s)", [entries[2].pk, entries[3].pk]
        )

    assert "2 entries verified" in verify()
    message = verify_fails("--heads", str(tmp_path))
    assert f"chain_seq 3 to 4: the chain ends at access entry id {entries[1].pk}" in message
    assert "records a head at chain_seq 4: sealed entries were removed" in message


# --- the head outside the database ---------------------------------------------------------


@pytest.mark.django_db
def test_audit_2_export_task_appends_the_head_hash_as_a_json_line(tmp_path):
    record(2)
    access_entries_seal()
    with override_settings(AUDIT_HEAD_EXPORT_DIR=tmp_path):
        export_audit_head()
        export_audit_head()  # safe to run twice: the unchanged head is not written again
        record(1)
        access_entries_seal()
        export_audit_head()

    (path,) = tmp_path.iterdir()
    assert re.fullmatch(r"audit-head-\d{4}-\d{2}-\d{2}\.jsonl", path.name)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["chain_seq"] for line in lines] == [2, 3]
    head = chain_head()
    assert lines[-1]["entry_id"] == head.entry_id
    assert lines[-1]["entry_hash"] == head.entry_hash
    assert set(lines[-1]) == {"chain_seq", "entry_id", "entry_hash", "sealed_at", "exported_at"}


@pytest.mark.django_db
def test_audit_2_export_refuses_a_missing_directory_instead_of_creating_it(tmp_path):
    missing = tmp_path / "not-mounted"
    with pytest.raises(CommandError, match="does not exist: mount the append-only storage"):
        call_command("export_audit_head", "--dir", str(missing), stdout=StringIO())
    assert not missing.exists()


# --- AUDIT-4 ---------------------------------------------------------------------------------

SEARCHED = ORDINARY_NUMBER
# Every column of the table: a column added later must be looked at for AUDIT-4 first.
ACCESS_ENTRY_COLUMNS = {
    "id", "at", "user_id", "unit_id", "action", "object_type", "object_id", "patient_id",
    "patient_protected", "outcome", "ip_address", "session_ref",
    "chain_seq", "prev_hash", "entry_hash", "sealed_at",
}  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("registered", [True, False], ids=["hit", "no-match"])
def test_audit_4_a_search_stores_no_number_name_or_address(client, registered):
    prescriber = UserFactory(role="prescriber")
    client.force_login(prescriber)
    personal_data = [SEARCHED, SEARCHED[2:], f"{SEARCHED[:8]}-{SEARCHED[8:]}", "891222-2398"]
    if registered:
        identity = PatientIdentityFactory(
            personal_identity_number=SEARCHED,
            given_names="Karin Sofia",
            surname="Nilsson",
            registered_address={"street2": "Storgatan 12", "postal_code": "21120", "city": "MALMÖ"},
        )
        # Not the postal code: five digits may occur by chance in a timestamp or a hash.
        personal_data += ["Karin", "Sofia", "Nilsson", "Storgatan", "MALMÖ"]

    assert client.post("/", {"number": SEARCHED}).status_code == 200
    access_entries_seal()

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM patients_accessentry")
        columns = [column.name for column in cursor.description]
        rows = cursor.fetchall()
    assert set(columns) == ACCESS_ENTRY_COLUMNS
    assert len(rows) == 1
    stored = {name: str(value) for name, value in zip(columns, rows[0], strict=True)}
    found = [
        (name, item) for name, value in stored.items() for item in personal_data if item in value
    ]
    assert found == []
    if registered:
        assert stored["patient_id"] == str(identity.patient_id)  # the one reference it may hold
