"""AUDIT-2, LEAK-6: only the database's sealer writes the chain, the verifier reports every
break with the stretch it covers, and the head is exported at every seal and compared with.

The sealer is ``audit_access_entries_seal`` (patients migration 0007): it runs as the table's
owner and computes the hashes in SQL; the verifier recomputes them in Python, so the two must
agree byte for byte on every value an entry can hold.
"""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import ProgrammingError, connection, transaction

from patients.audit import GENESIS_HASH, access_entries_seal, entry_canonical
from patients.models import AccessAction, AccessEntry, AccessOutcome
from patients.tasks import seal_access_entries
from tests.audit_log import record, trigger_disabled, verify


def verify_fails(*args: str) -> str:
    with pytest.raises(CommandError) as failure:
        verify(*args)
    return str(failure.value)


def refused(sql: str, params: dict[str, Any]) -> str:
    with pytest.raises(ProgrammingError) as failure, transaction.atomic(), connection.cursor() as c:
        c.execute(sql, params)
    return str(failure.value)


# --- only the sealer writes the chain --------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        "chain_seq = 1, prev_hash = %(genesis)s, entry_hash = repeat('a', 64), sealed_at = now()",
        "chain_seq = 1, prev_hash = repeat('b', 64), entry_hash = repeat('b', 64), "
        "sealed_at = now()",
        "chain_seq = 999999, prev_hash = %(genesis)s, entry_hash = repeat('c', 64), "
        "sealed_at = now()",
    ],
)
def test_audit_2_the_application_role_cannot_seal_an_entry_with_values_of_its_choice(change):
    """Before, the trigger let any role seal an unsealed entry once, with any values: a wrong
    hash or position there broke the chain for good. Now the application role can only ask."""
    (entry,) = record(1)
    sql = f"UPDATE patients_accessentry SET {change} WHERE id = %(id)s"  # noqa: S608 (constants)
    message = refused(sql, {"genesis": GENESIS_HASH, "id": entry.pk})
    assert "permission denied" in message
    assert access_entries_seal() == 1
    assert "1 entries verified" in verify()


@pytest.mark.django_db
def test_audit_2_the_sealer_is_the_owners_function_and_only_the_application_may_call_it():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.proname, p.prosecdef, pg_get_userbyid(p.proowner), "
            "has_function_privilege('public', p.oid, 'EXECUTE'), "
            "has_function_privilege(current_user, p.oid, 'EXECUTE'), p.proconfig "
            "FROM pg_proc p WHERE p.proname IN ('audit_access_entries_seal', 'audit_json_string') "
            "ORDER BY p.proname"
        )
        found = cursor.fetchall()
    owner = settings.DATABASES["owner"]["USER"]
    search_path = ["search_path=pg_catalog, public, pg_temp"]
    assert found == [
        ("audit_access_entries_seal", True, owner, False, True, search_path),
        ("audit_json_string", False, owner, False, False, ["search_path=pg_catalog, pg_temp"]),
    ]


# Values the JSON of the canonical form must escape exactly as Python's json.dumps does.
AWKWARD = [
    ("object_id", 'quote " and back\\slash'),
    ("object_id", "line\nfeed\ttab\rcr\bbs\fff"),
    ("object_id", "control \x01\x1f and DEL \x7f"),
    ("object_id", "Åsa Öberg-Ängel é ß"),
    ("object_id", "\u2028 \ufeff \uffff"),
    ("object_id", "astral 😀 𝄞"),
    ("object_type", "<script>&amp;</script>"),
    ("session_ref", ""),
    ("ip_address", "2001:db8::1"),
    ("ip_address", "::ffff:10.1.2.3"),
    ("ip_address", None),
]


@pytest.mark.django_db
def test_audit_2_the_sql_sealer_hashes_exactly_as_the_python_verifier_recomputes():
    entries = []
    for column, value in AWKWARD:
        fields: dict[str, Any] = {
            "action": AccessAction.READ,
            "outcome": AccessOutcome.DENIED,
            "object_type": "patient",
            "object_id": "P-1",
            "ip_address": "10.1.2.3",
            "session_ref": "0123456789abcdef",
            column: value,
        }
        entries.append(AccessEntry.objects.create(**fields))
    entries.append(AccessEntry.objects.create(action="read", outcome="allowed"))

    assert access_entries_seal() == len(entries)

    output = verify()
    assert f"Audit chain intact: {len(entries)} entries verified" in output
    # The awkward values really reached the form the hash covers.
    stored = AccessEntry.objects.values().get(pk=entries[5].pk)
    assert "\\ud83d\\ude00" in entry_canonical(stored).decode("ascii")


# --- the verifier reports every break ---------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_audit_2_verify_reports_every_break_and_checks_on_after_each(owner_connection):
    """Before, the walk stopped at the first break: a second tampered entry after it went
    unreported until the first was dealt with."""
    entries = record(8)
    access_entries_seal()
    with trigger_disabled(owner_connection) as cursor:
        for target in (entries[1], entries[5]):
            cursor.execute(
                "UPDATE patients_accessentry SET object_id = 'tampered' WHERE id = %s", [target.pk]
            )
        cursor.execute("DELETE FROM patients_accessentry WHERE id = %s", [entries[3].pk])

    message = verify_fails()
    assert "Audit chain broken (3 breaks)" in message
    assert [line for line in message.splitlines() if line.startswith("- ")] == [
        f"- chain_seq 2 (access entry id {entries[1].pk}): hash mismatch: the content was "
        "changed after sealing",
        f"- chain_seq 4: gap: missing between access entry id {entries[2].pk} (chain_seq 3) and "
        f"access entry id {entries[4].pk} (chain_seq 5): sealed entries were removed",
        f"- chain_seq 6 (access entry id {entries[5].pk}): hash mismatch: the content was "
        "changed after sealing",
    ]
    assert "4 entries verified" in message


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_audit_2_verify_reports_consecutive_changed_entries_as_one_stretch(owner_connection):
    entries = record(6)
    access_entries_seal()
    with trigger_disabled(owner_connection) as cursor:
        for target in (entries[1], entries[2], entries[3], entries[5]):
            cursor.execute(
                "UPDATE patients_accessentry SET object_id = 'tampered' WHERE id = %s", [target.pk]
            )

    message = verify_fails()
    assert "Audit chain broken (2 breaks)" in message
    assert (
        f"- chain_seq 2 to 4 (access entry ids {entries[1].pk} to {entries[3].pk}): hash mismatch"
    ) in message
    assert f"- chain_seq 6 (access entry id {entries[5].pk}): hash mismatch" in message
    assert "2 entries verified" in message


# --- the head is exported at every seal and compared with --------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_audit_2_removing_the_newest_sealed_entries_is_caught_by_the_head_exported_at_sealing(
    owner_connection, audit_head_dir
):
    """Before, the head was exported once a day: entries sealed since then could be removed by
    the owner without a trace. The sealing task now exports after every run that sealed, and
    the verifier compares with the exported heads by default."""
    entries = record(2)
    seal_access_entries()
    entries += record(3)
    seal_access_entries()
    (exported,) = audit_head_dir.iterdir()
    assert len(exported.read_text().splitlines()) == 2
    assert "Checked against 2 exported heads" in verify()

    with trigger_disabled(owner_connection) as cursor:
        cursor.execute(
            "DELETE FROM patients_accessentry WHERE id IN (%s, %s)",
            [entries[3].pk, entries[4].pk],
        )

    message = verify_fails()
    assert (
        f"- chain_seq 4 to 5: the chain ends at access entry id {entries[2].pk} (chain_seq 3) "
        f"but {exported.name} line 2 records a head at chain_seq 5"
    ) in message


@pytest.mark.django_db
def test_audit_2_the_sealing_task_exports_nothing_when_nothing_was_sealed(audit_head_dir):
    assert seal_access_entries() == 0
    assert list(audit_head_dir.iterdir()) == []


@pytest.mark.django_db
def test_audit_2_verify_refuses_to_skip_the_exported_heads_silently(settings, tmp_path):
    """Without the export storage the chain can only be checked on its own, and only on
    request: an unmounted volume must not pass for a check against the heads."""
    record(1)
    access_entries_seal()
    settings.AUDIT_HEAD_EXPORT_DIR = tmp_path / "not-mounted"
    assert "do not exist: mount the append-only storage there" in verify_fails()
    output = StringIO()
    call_command("verify_audit_chain", "--without-heads", stdout=output)
    assert "Audit chain intact: 1 entries verified" in output.getvalue()
    assert "exported heads" not in output.getvalue()
