"""LEAK-3: locating data is encrypted at rest with AES-256-GCM, bound to its column, rotatable.

Everything here runs against the real PostgreSQL of the test settings; raw column contents are
read with ``connection.cursor()`` so that nothing goes through the field's decryption.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, models
from django.test import override_settings

from config.settings.env import ConfigurationError, encryption_keys
from patients.crypto import (
    DecryptionError,
    current_key_id,
    decrypt_text,
    encrypt_text,
    key_id_of,
    keyed_digest,
)
from patients.fields import EncryptedJSONField, EncryptedTextField, field_context
from patients.management.commands.rotate_encryption_key import encrypted_fields
from patients.models import PatientIdentity, QuarantinedRecord
from tests.patients.conftest import LOCATING_VALUES, RECORD_XML

# The test settings' keys (config/settings/test.py): test2 is current, test1 is older.
KEY_TEST1 = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
KEY_TEST2 = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="
KEY_TEST3 = "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM="
TEST1_FIRST = encryption_keys(f"test1:{KEY_TEST1},test2:{KEY_TEST2}")
ONLY_TEST1 = encryption_keys(f"test1:{KEY_TEST1}")
# A key the test settings do not hold, for values "under an unknown key id".
TEST3_FIRST = encryption_keys(f"test3:{KEY_TEST3},test2:{KEY_TEST2},test1:{KEY_TEST1}")

IDENTITY_FIELDS = tuple(LOCATING_VALUES)

MakeIdentity = Callable[..., PatientIdentity]
MakeQuarantined = Callable[..., QuarantinedRecord]


# --- helpers -----------------------------------------------------------------------------------


def _sql_names(model: type[models.Model], field_name: str) -> tuple[str, str, str]:
    qn = connection.ops.quote_name
    field = model._meta.get_field(field_name)
    assert isinstance(field, models.Field)
    pk_field = model._meta.pk
    assert pk_field is not None
    assert field.column is not None
    assert pk_field.column is not None
    return qn(model._meta.db_table), qn(field.column), qn(pk_field.column)


def raw_value(model: type[models.Model], field_name: str, pk: Any) -> str | None:
    """The column exactly as stored, bypassing the field's decryption."""
    table, column, pk_column = _sql_names(model, field_name)
    with connection.cursor() as cursor:
        # Identifiers come from model metadata and are quoted; the pk is a parameter.
        cursor.execute(f"SELECT {column} FROM {table} WHERE {pk_column} = %s", [pk])  # noqa: S608
        row = cursor.fetchone()
    assert row is not None
    value: str | None = row[0]
    return value


def set_raw_value(model: type[models.Model], field_name: str, pk: Any, value: str | None) -> None:
    table, column, pk_column = _sql_names(model, field_name)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = %s WHERE {pk_column} = %s",  # noqa: S608
            [value, pk],
        )


def plaintext_forms(value: Any) -> list[str]:
    """Every plaintext a column must not reveal: the encoded value and each leaf string."""
    if isinstance(value, str):
        return [value]
    forms = [
        json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
        json.dumps(value, ensure_ascii=False),
    ]
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and item:
            forms.append(item)
    return forms


def assert_reveals_nothing(stored: str, value: Any) -> None:
    """Neither the plaintext nor any substring of it (of 5 characters or more, or the whole of a
    shorter value) occurs in the stored text, in any letter case.

    Shorter substrings are left out only because 1-4 characters occur in random base64 by
    chance; the whole of a short value (a municipality code) is still checked.
    """
    haystack = stored.casefold()
    for text in plaintext_forms(value):
        needle = text.casefold()
        assert needle not in haystack
        width = min(5, len(needle))
        for start in range(len(needle) - width + 1):
            assert needle[start : start + width] not in haystack, "plaintext leaks into column"


def flip_char(token: str, position: int) -> str:
    """Replace one base64url character of the token's body with a different one."""
    kid, _, body = token.partition(":")
    old = body[position]
    new = "A" if old != "A" else "B"
    return f"{kid}:{body[:position]}{new}{body[position + 1 :]}"


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


# --- encryption at rest ------------------------------------------------------------------------


@pytest.mark.django_db
def test_leak3_encrypted_fields_are_discovered() -> None:
    found = {
        (model._meta.label, field.name) for model, fields in encrypted_fields() for field in fields
    }
    expected = {("patients.PatientIdentity", name) for name in IDENTITY_FIELDS}
    expected.add(("patients.QuarantinedRecord", "record_xml"))
    assert expected <= found
    for model, fields in encrypted_fields():
        assert not model._meta.proxy
        assert all(isinstance(f, EncryptedTextField | EncryptedJSONField) for f in fields)


@pytest.mark.django_db
def test_leak3_every_encrypted_field_round_trips_through_save_and_refresh(
    make_identity: MakeIdentity, make_quarantined: MakeQuarantined
) -> None:
    identity = make_identity(**LOCATING_VALUES)
    identity.refresh_from_db()
    for name, value in LOCATING_VALUES.items():
        assert getattr(identity, name) == value, name

    fresh = PatientIdentity.objects.get(pk=identity.pk)
    for name, value in LOCATING_VALUES.items():
        assert getattr(fresh, name) == value, name

    # A change is saved and read back; None is stored as NULL, not as an encrypted "None".
    fresh.phone = "070-1740699"
    fresh.foreign_address = None
    fresh.save()
    identity.refresh_from_db()
    assert identity.phone == "070-1740699"
    assert identity.foreign_address is None
    assert raw_value(PatientIdentity, "foreign_address", identity.pk) is None

    record = make_quarantined()
    record.refresh_from_db()
    assert record.record_xml == RECORD_XML
    assert QuarantinedRecord.objects.get(pk=record.pk).record_xml == RECORD_XML


@pytest.mark.django_db
def test_leak3_non_ascii_and_empty_values_round_trip(make_identity: MakeIdentity) -> None:
    address = {"street": "Åkervägen 3 ÖG", "city": "GÄVLE", "lines": ["", "ü ß é"]}
    identity = make_identity(registered_address=address, phone="")
    identity.refresh_from_db()
    assert identity.registered_address == address
    assert identity.phone == ""
    stored = raw_value(PatientIdentity, "phone", identity.pk)
    assert stored is not None
    assert stored.startswith("test2:")  # even an empty string is a token, never plain text


@pytest.mark.django_db
@pytest.mark.parametrize("name", IDENTITY_FIELDS)
def test_leak3_raw_column_holds_no_plaintext_and_starts_with_current_key_id(
    make_identity: MakeIdentity, name: str
) -> None:
    identity = make_identity(**LOCATING_VALUES)
    stored = raw_value(PatientIdentity, name, identity.pk)
    assert stored is not None
    assert current_key_id() == "test2"
    assert stored.startswith("test2:")
    assert_reveals_nothing(stored, LOCATING_VALUES[name])


@pytest.mark.django_db
def test_leak3_raw_quarantined_record_holds_no_plaintext(make_quarantined: MakeQuarantined) -> None:
    record = make_quarantined()
    stored = raw_value(QuarantinedRecord, "record_xml", record.pk)
    assert stored is not None
    assert stored.startswith("test2:")
    assert_reveals_nothing(stored, RECORD_XML)
    assert "194201077098" not in stored


@pytest.mark.django_db
def test_leak3_same_value_saved_twice_gives_different_ciphertexts(
    make_identity: MakeIdentity,
) -> None:
    first = make_identity(
        phone="070-1740605", registered_address=LOCATING_VALUES["registered_address"]
    )
    second = make_identity(
        phone="070-1740605", registered_address=LOCATING_VALUES["registered_address"]
    )
    for name in ("phone", "registered_address"):
        assert raw_value(PatientIdentity, name, first.pk) != raw_value(
            PatientIdentity, name, second.pk
        )

    # Saving the same row again with an unchanged value also gives a new nonce.
    before = raw_value(PatientIdentity, "phone", first.pk)
    first.save()
    after = raw_value(PatientIdentity, "phone", first.pk)
    assert before != after
    assert before is not None
    assert after is not None
    nonce_before = base64.urlsafe_b64decode(before.partition(":")[2])[:12]
    nonce_after = base64.urlsafe_b64decode(after.partition(":")[2])[:12]
    assert nonce_before != nonce_after
    first.refresh_from_db()
    assert first.phone == "070-1740605"


@pytest.mark.django_db
def test_leak3_token_copied_to_another_column_does_not_decrypt(
    make_identity: MakeIdentity, make_quarantined: MakeQuarantined
) -> None:
    identity = make_identity(phone="070-1740605", municipality_code="0180")
    phone_token = raw_value(PatientIdentity, "phone", identity.pk)
    assert phone_token is not None

    table, phone_col, pk_col = _sql_names(PatientIdentity, "phone")
    _, muni_col, _ = _sql_names(PatientIdentity, "municipality_code")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {muni_col} = {phone_col} WHERE {pk_col} = %s",  # noqa: S608
            [identity.pk],
        )
    assert raw_value(PatientIdentity, "municipality_code", identity.pk) == phone_token

    with pytest.raises(DecryptionError) as excinfo:
        PatientIdentity.objects.get(pk=identity.pk)
    # The error names the key and context, never the value or the token.
    assert "070-1740605" not in str(excinfo.value)
    assert phone_token not in str(excinfo.value)
    assert "patients.patientidentity.municipality_code" in str(excinfo.value)

    with pytest.raises(DecryptionError):
        identity.refresh_from_db()

    # Across models too: the phone token does not decrypt as a quarantined record.
    record = make_quarantined()
    set_raw_value(QuarantinedRecord, "record_xml", record.pk, phone_token)
    with pytest.raises(DecryptionError):
        QuarantinedRecord.objects.get(pk=record.pk)

    # And the context is exactly what the field uses.
    phone_field = PatientIdentity._meta.get_field("phone")
    assert isinstance(phone_field, EncryptedTextField)
    assert field_context(phone_field) == "patients.patientidentity.phone"
    assert decrypt_text(phone_token, context="patients.patientidentity.phone") == "070-1740605"


@pytest.mark.django_db
@pytest.mark.parametrize("where", ["nonce", "ciphertext", "tag"])
def test_leak3_tampered_token_raises_decryption_error(
    make_identity: MakeIdentity, where: str
) -> None:
    identity = make_identity(phone="070-1740605")
    token = raw_value(PatientIdentity, "phone", identity.pk)
    assert token is not None
    body = token.partition(":")[2].rstrip("=")
    # Nonce: bytes 0-11 (chars 0-15); ciphertext: the middle; tag: the last 16 bytes. The last
    # character is avoided, since its low bits may be padding that decoding ignores.
    position = {"nonce": 3, "ciphertext": 18, "tag": len(body) - 3}[where]
    tampered = flip_char(token, position)
    assert tampered != token

    with pytest.raises(DecryptionError):
        decrypt_text(tampered, context="patients.patientidentity.phone")

    set_raw_value(PatientIdentity, "phone", identity.pk, tampered)
    with pytest.raises(DecryptionError) as excinfo:
        PatientIdentity.objects.get(pk=identity.pk)
    assert "070-1740605" not in str(excinfo.value)


@pytest.mark.django_db
def test_leak3_token_relabelled_with_another_known_key_id_raises(
    make_identity: MakeIdentity,
) -> None:
    identity = make_identity(phone="070-1740605")
    token = raw_value(PatientIdentity, "phone", identity.pk)
    assert token is not None
    relabelled = "test1:" + token.partition(":")[2]
    set_raw_value(PatientIdentity, "phone", identity.pk, relabelled)
    with pytest.raises(DecryptionError):
        PatientIdentity.objects.get(pk=identity.pk)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "stored",
    [
        "070-1740605",  # plain text that was never encrypted
        "test2:",  # a key id and nothing else
        "test2:AAAA",  # too short to hold a nonce and a tag
        "test2:@@@@",  # not base64
    ],
)
def test_leak3_non_token_in_encrypted_column_is_refused_not_returned(
    make_identity: MakeIdentity, stored: str
) -> None:
    identity = make_identity(phone="070-1740699")
    set_raw_value(PatientIdentity, "phone", identity.pk, stored)
    with pytest.raises(DecryptionError) as excinfo:
        PatientIdentity.objects.get(pk=identity.pk)
    assert "070-1740605" not in str(excinfo.value)


@pytest.mark.django_db
def test_leak3_token_under_key_id_not_in_settings_raises(make_identity: MakeIdentity) -> None:
    identity = make_identity(phone="070-1740605")
    assert key_id_of(raw_value(PatientIdentity, "phone", identity.pk) or "") == "test2"

    # The key that encrypted it is no longer configured: fail closed, naming the key id.
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=ONLY_TEST1),
        pytest.raises(DecryptionError, match="test2"),
    ):
        PatientIdentity.objects.get(pk=identity.pk)

    # A value written under a key the settings never held.
    with override_settings(FIELD_ENCRYPTION_KEYS=TEST3_FIRST):
        other = make_identity(phone="070-1740606")
    assert key_id_of(raw_value(PatientIdentity, "phone", other.pk) or "") == "test3"
    with pytest.raises(DecryptionError, match="test3"):
        PatientIdentity.objects.get(pk=other.pk)

    # A token under the older, still listed key decrypts (rotation without a flag day).
    with override_settings(FIELD_ENCRYPTION_KEYS=TEST1_FIRST):
        old = make_identity(phone="070-1740607")
    assert key_id_of(raw_value(PatientIdentity, "phone", old.pk) or "") == "test1"
    assert PatientIdentity.objects.get(pk=old.pk).phone == "070-1740607"


@pytest.mark.django_db
@pytest.mark.parametrize("name", IDENTITY_FIELDS)
def test_leak3_encrypted_fields_refuse_lookups_except_isnull(
    make_identity: MakeIdentity, name: str
) -> None:
    with_value = make_identity(**{name: LOCATING_VALUES[name]})
    without = make_identity()
    sample = LOCATING_VALUES[name] if isinstance(LOCATING_VALUES[name], str) else "x"

    for lookup in ("", "__exact", "__iexact", "__icontains", "__startswith", "__in"):
        rhs: Any = [sample] if lookup == "__in" else sample
        with pytest.raises(FieldError, match="encrypted"):
            PatientIdentity.objects.filter(**{f"{name}{lookup}": rhs})
        with pytest.raises(FieldError, match="encrypted"):
            PatientIdentity.objects.exclude(**{f"{name}{lookup}": rhs})

    assert list(PatientIdentity.objects.filter(**{f"{name}__isnull": True})) == [without]
    assert list(PatientIdentity.objects.filter(**{f"{name}__isnull": False})) == [with_value]


@pytest.mark.django_db
def test_leak3_phone_filter_raises_field_error_while_isnull_works(
    make_identity: MakeIdentity,
) -> None:
    make_identity(phone="x")
    with pytest.raises(FieldError):
        PatientIdentity.objects.filter(phone="x")
    assert PatientIdentity.objects.filter(phone__isnull=True).count() == 0
    assert PatientIdentity.objects.filter(phone__isnull=False).count() == 1


def test_leak3_keyed_digest_differs_per_purpose_and_per_key() -> None:
    data = b"194201077098|Storgatan 12"
    digest = keyed_digest(data, purpose="register-record")
    assert len(digest) == 64
    int(digest, 16)
    assert keyed_digest(data, purpose="register-record") == digest  # deterministic
    assert keyed_digest(data, purpose="something-else") != digest
    assert keyed_digest(data + b"!", purpose="register-record") != digest
    # Not a plain hash that could be confirmed by guessing.
    assert digest != hashlib.sha256(data).hexdigest()
    # Keyed with the current key: another current key gives another digest.
    with override_settings(FIELD_ENCRYPTION_KEYS=TEST1_FIRST):
        under_test1 = keyed_digest(data, purpose="register-record")
    assert under_test1 != digest
    with override_settings(FIELD_ENCRYPTION_KEYS=TEST3_FIRST):
        assert keyed_digest(data, purpose="register-record") not in {digest, under_test1}


def test_leak3_crypto_round_trip_and_context_binding_without_db() -> None:
    token = encrypt_text("Storgatan 12", context="a.b.c")
    assert token.startswith("test2:")
    assert decrypt_text(token, context="a.b.c") == "Storgatan 12"
    with pytest.raises(DecryptionError):
        decrypt_text(token, context="a.b.d")
    with pytest.raises(DecryptionError):
        key_id_of("no colon here")


# --- serialisation and token hygiene ------------------------------------------------------


@pytest.mark.django_db
def test_leak3_encrypted_json_field_survives_serialization(make_identity: MakeIdentity) -> None:
    from django.core import serializers

    identity = make_identity(registered_address=LOCATING_VALUES["registered_address"])
    data = serializers.serialize("json", PatientIdentity.objects.filter(pk=identity.pk))
    (restored,) = serializers.deserialize("json", data)
    assert isinstance(restored.object, PatientIdentity)
    assert restored.object.registered_address == LOCATING_VALUES["registered_address"]


@pytest.mark.parametrize("where", ["inserted", "trailing newline", "extra padding"])
def test_leak3_altered_token_text_is_refused(where: str) -> None:
    token = encrypt_text("070-1740605", context="patients.patientidentity.phone")
    kid, _, body = token.partition(":")
    altered = {
        "inserted": f"{kid}:{body[:10]}!{body[10:]}",
        "trailing newline": f"{token}\n",
        "extra padding": f"{token}====",
    }[where]
    with pytest.raises(DecryptionError):
        decrypt_text(altered, context="patients.patientidentity.phone")


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
    assert "patients.PatientIdentity.phone" in message
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
