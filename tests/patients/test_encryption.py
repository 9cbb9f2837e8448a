"""LEAK-3: locating data is encrypted at rest with AES-256-GCM and bound to its column (the keys
and their rotation: test_encryption_keys.py).

Everything here runs against the real PostgreSQL of the test settings; raw column contents are
read with ``connection.cursor()`` so that nothing goes through the field's decryption.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from django.core.exceptions import FieldError
from django.db import connection
from django.test import override_settings

from patients.crypto import (
    DecryptionError,
    current_key_id,
    decrypt_text,
    encrypt_text,
    key_id_of,
    keyed_digest,
)
from patients.fields import EncryptedTextField, field_context
from patients.management.commands.rotate_encryption_key import (
    ENCRYPTED_FIELD_CLASSES,
    encrypted_fields,
)
from patients.models import PatientIdentity, QuarantinedRecord
from tests.patients.encrypted_columns import (
    IDENTITY_FIELDS,
    LOCATING_VALUES,
    ONLY_TEST1,
    RECORD_XML,
    TEST1_FIRST,
    TEST3_FIRST,
    MakeIdentity,
    MakeQuarantined,
    assert_reveals_nothing,
    raw_value,
    set_raw_value,
    sql_names,
)


def flip_char(token: str, position: int) -> str:
    """Replace one base64url character of the token's body with a different one."""
    kid, _, body = token.partition(":")
    old = body[position]
    new = "A" if old != "A" else "B"
    return f"{kid}:{body[:position]}{new}{body[position + 1 :]}"


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
        assert all(isinstance(f, ENCRYPTED_FIELD_CLASSES) for f in fields)


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

    table, phone_col, pk_col = sql_names(PatientIdentity, "phone")
    _, muni_col, _ = sql_names(PatientIdentity, "municipality_code")
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
