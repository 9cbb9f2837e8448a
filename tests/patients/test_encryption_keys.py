"""LEAK-3: the keys of the encrypted columns: rotating every old token to the current key, and
reading FIELD_ENCRYPTION_KEYS.

Everything here runs against the real PostgreSQL of the test settings; raw column contents are
read with ``connection.cursor()`` so that nothing goes through the field's decryption.
"""

from __future__ import annotations

import base64
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from config.settings.env import ConfigurationError, encryption_keys
from patients.models import PatientIdentity, QuarantinedRecord
from tests.patients.encrypted_columns import (
    IDENTITY_FIELDS,
    KEY_TEST1,
    KEY_TEST2,
    LOCATING_VALUES,
    RECORD_XML,
    TEST1_FIRST,
    TEST3_FIRST,
    MakeIdentity,
    MakeQuarantined,
    plaintext_forms,
    raw_value,
    set_raw_value,
)


def all_raw_tokens(identities: list[PatientIdentity], records: list[QuarantinedRecord]) -> set[str]:
    tokens: set[str] = set()
    for identity in identities:
        for name in IDENTITY_FIELDS:
            value = raw_value(PatientIdentity, name, identity.pk)
            if value is not None:
                tokens.add(value)
    for record in records:
        value = raw_value(QuarantinedRecord, "record_xml", record.pk)
        assert value is not None
        tokens.add(value)
    return tokens


def run_rotation(*args: str) -> str:
    out = StringIO()
    call_command("rotate_encryption_key", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


# --- key rotation ------------------------------------------------------------------------------


def _identities_under_test1(make_identity: MakeIdentity) -> list[PatientIdentity]:
    with override_settings(FIELD_ENCRYPTION_KEYS=TEST1_FIRST):
        return [
            make_identity(**LOCATING_VALUES),
            make_identity(**{**LOCATING_VALUES, "phone": None, "foreign_address": None}),
            make_identity(**{**LOCATING_VALUES, "phone": "070-1740698"}),
        ]


@pytest.mark.django_db
def test_leak3_rotation_reencrypts_every_old_token_under_the_current_key(
    make_identity: MakeIdentity, make_quarantined: MakeQuarantined
) -> None:
    identities = _identities_under_test1(make_identity)
    with override_settings(FIELD_ENCRYPTION_KEYS=TEST1_FIRST):
        records = [make_quarantined(), make_quarantined("<Folkbokforingspost/>")]
    # One row already under the current key.
    current_identity = make_identity(phone="070-1740697", municipality_code="0114")
    current_phone_token = raw_value(PatientIdentity, "phone", current_identity.pk)

    before = all_raw_tokens(identities, records)
    assert before
    assert all(token.startswith("test1:") for token in before)
    expected = {
        identity.pk: {n: getattr(identity, n) for n in IDENTITY_FIELDS} for identity in identities
    }

    output = run_rotation("--batch-size", "2")

    after = all_raw_tokens(identities, records)
    assert all(token.startswith("test2:") for token in after)
    assert not (before & after)
    for identity in identities:
        identity.refresh_from_db()
        assert {n: getattr(identity, n) for n in IDENTITY_FIELDS} == expected[identity.pk]
    assert [QuarantinedRecord.objects.get(pk=r.pk).record_xml for r in records] == [
        RECORD_XML,
        "<Folkbokforingspost/>",
    ]
    # A value already under the current key is left exactly as it was.
    assert raw_value(PatientIdentity, "phone", current_identity.pk) == current_phone_token

    assert "patients.PatientIdentity.phone: 2 re-encrypted, 1 already current" in output
    assert "patients.PatientIdentity.municipality_code: 3 re-encrypted, 1 already current" in output
    assert "patients.PatientIdentity.foreign_address: 2 re-encrypted, 0 already current" in output
    assert (
        "patients.PatientIdentity.registered_address: 3 re-encrypted, 0 already current" in output
    )
    assert "patients.QuarantinedRecord.record_xml: 2 re-encrypted, 0 already current" in output
    # Counts only: no value and no token is ever printed.
    for token in before | after:
        assert token.partition(":")[2][:12] not in output
    for value in LOCATING_VALUES.values():
        for text in plaintext_forms(value):
            assert text not in output
    assert "Storgatan" not in output

    # Idempotent: a second run finds nothing to do.
    again = run_rotation()
    assert "patients.PatientIdentity.phone: 0 re-encrypted, 3 already current" in again
    assert "patients.QuarantinedRecord.record_xml: 0 re-encrypted, 2 already current" in again
    assert all_raw_tokens(identities, records) == after


@pytest.mark.django_db
def test_leak3_rotation_check_fails_before_rotation_and_passes_after(
    make_identity: MakeIdentity, make_quarantined: MakeQuarantined
) -> None:
    identities = _identities_under_test1(make_identity)
    records = [make_quarantined()]  # under the current key already
    before = all_raw_tokens(identities, records)

    with pytest.raises(CommandError, match="not under the current key") as excinfo:
        run_rotation("--check")
    assert excinfo.value.returncode == 1
    # --check writes nothing.
    assert all_raw_tokens(identities, records) == before

    out = StringIO()
    with pytest.raises(CommandError):
        call_command("rotate_encryption_key", "--check", stdout=out)
    assert (
        "patients.PatientIdentity.phone: 2 under an older key, 0 already current" in out.getvalue()
    )
    assert "patients.QuarantinedRecord.record_xml: 0 under an older key, 1 already current" in (
        out.getvalue()
    )

    run_rotation()
    output = run_rotation("--check")  # no CommandError: exit status 0
    assert "patients.PatientIdentity.phone: 0 under an older key, 2 already current" in output


@pytest.mark.django_db
def test_leak3_rotation_check_passes_when_nothing_is_stale(make_identity: MakeIdentity) -> None:
    make_identity(**LOCATING_VALUES)
    output = run_rotation("--check")
    assert "All encrypted values use key 'test2'" in output


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", ["1", "100"])
def test_leak3_rotation_fails_closed_on_unknown_key_id_and_leaves_the_row_untouched(
    make_identity: MakeIdentity, batch_size: str
) -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=TEST1_FIRST):
        first = make_identity(phone="070-1740605")
    with override_settings(FIELD_ENCRYPTION_KEYS=TEST3_FIRST):
        unknown = make_identity(phone="070-1740606")
    with override_settings(FIELD_ENCRYPTION_KEYS=TEST1_FIRST):
        last = make_identity(phone="070-1740607")
    assert first.pk < unknown.pk < last.pk
    unknown_token = raw_value(PatientIdentity, "phone", unknown.pk)
    last_token = raw_value(PatientIdentity, "phone", last.pk)
    assert unknown_token is not None
    assert unknown_token.startswith("test3:")

    with pytest.raises(CommandError) as excinfo:
        run_rotation("--batch-size", batch_size)
    message = str(excinfo.value)
    # The first encrypted column of the row names it (names and numbers are encrypted too).
    assert message.startswith("patients.PatientIdentity.")
    assert f"pk={unknown.pk}" in message
    assert "'test3'" in message
    assert "070-1740606" not in message
    assert unknown_token.partition(":")[2] not in message

    # The row under the unknown key is not changed, nor is anything after it.
    assert raw_value(PatientIdentity, "phone", unknown.pk) == unknown_token
    assert raw_value(PatientIdentity, "phone", last.pk) == last_token
    first_token = raw_value(PatientIdentity, "phone", first.pk) or ""
    if batch_size == "1":
        # The earlier batch was committed before the failing one.
        assert first_token.startswith("test2:")
    else:
        # The failing batch is rolled back as a whole.
        assert first_token.startswith("test1:")

    # --check reports it as something rotation cannot fix.
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("rotate_encryption_key", "--check", stdout=out)
    assert "1 under an unknown key id" in out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["plain text", "wrong context"])
def test_leak3_rotation_fails_closed_on_a_value_that_does_not_decrypt(
    make_identity: MakeIdentity, kind: str
) -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=TEST1_FIRST):
        identity = make_identity(phone="070-1740605", municipality_code="0180")
    if kind == "plain text":
        bad = "070-1740605"
    else:
        bad = raw_value(PatientIdentity, "phone", identity.pk) or ""
    set_raw_value(PatientIdentity, "municipality_code", identity.pk, bad)
    phone_before = raw_value(PatientIdentity, "phone", identity.pk)

    with pytest.raises(CommandError) as excinfo:
        run_rotation()
    message = str(excinfo.value)
    assert "patients.PatientIdentity.municipality_code" in message
    assert f"pk={identity.pk}" in message
    assert "070-1740605" not in message
    assert raw_value(PatientIdentity, "municipality_code", identity.pk) == bad
    assert raw_value(PatientIdentity, "phone", identity.pk) == phone_before


@pytest.mark.django_db
def test_leak3_rotation_does_not_touch_other_columns(make_identity: MakeIdentity) -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=TEST1_FIRST):
        identity = make_identity(phone="070-1740605", surname="Testsson")
    updated_at = PatientIdentity.objects.values_list("updated_at", flat=True).get(pk=identity.pk)
    run_rotation()
    row = PatientIdentity.objects.values("updated_at", "surname", "personal_identity_number").get(
        pk=identity.pk
    )
    assert row == {
        "updated_at": updated_at,
        "surname": "Testsson",
        "personal_identity_number": identity.personal_identity_number,
    }


@pytest.mark.django_db
def test_leak3_rotation_rejects_a_batch_size_below_one() -> None:
    with pytest.raises(CommandError, match="batch-size"):
        run_rotation("--batch-size", "0")


# --- FIELD_ENCRYPTION_KEYS parsing -------------------------------------------------------------


def test_leak3_encryption_keys_keep_order_first_key_encrypts() -> None:
    keys = encryption_keys(f" test2:{KEY_TEST2} , test1:{KEY_TEST1} ,")
    assert list(keys) == ["test2", "test1"]
    assert keys["test1"] == b"\x01" * 32
    assert keys["test2"] == b"\x02" * 32


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "k1:" + base64.b64encode(b"\x01" * 16).decode(),
            "'k1' must be 32 bytes for AES-256, got 16",
        ),
        (
            "k1:" + base64.b64encode(b"\x01" * 33).decode(),
            "'k1' must be 32 bytes for AES-256, got 33",
        ),
        ("k1:not*base64!", "'k1' is not valid base64"),
        (f"k1:{KEY_TEST1[:-2]}", "'k1' is not valid base64"),
        (f"k1:{KEY_TEST1},k1:{KEY_TEST2}", "key id 'k1' appears twice"),
        (f"bad id:{KEY_TEST1}", "entry 1 must look like 'keyid:base64key'"),
        (f"k1:{KEY_TEST1},{KEY_TEST2}", "entry 2 must look like 'keyid:base64key'"),
        (f"{'k' * 17}:{KEY_TEST1}", "entry 1 must look like 'keyid:base64key'"),
        (f":{KEY_TEST1}", "entry 1 must look like 'keyid:base64key'"),
        ("", "must hold at least one key"),
        (" , ,", "must hold at least one key"),
    ],
    ids=[
        "too-short",
        "too-long",
        "bad-base64",
        "truncated-base64",
        "duplicate-id",
        "bad-id",
        "missing-id",
        "id-too-long",
        "empty-id",
        "empty",
        "only-separators",
    ],
)
def test_leak3_encryption_keys_errors_name_the_problem_never_the_key(
    value: str, message: str
) -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        encryption_keys(value, name="MY_KEYS")
    text = str(excinfo.value)
    assert message in text
    assert text.startswith("MY_KEYS")
    for secret in (KEY_TEST1, KEY_TEST2, KEY_TEST1[:-2]):
        assert secret not in text
