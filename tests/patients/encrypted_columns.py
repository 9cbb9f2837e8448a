"""Encrypted columns seen from below (LEAK-3): what the tests store, and how they read and
write a column as stored, bypassing the field's decryption. Shared by test_encryption.py and
test_encryption_keys.py; the locating data are fictitious.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.db import connection, models

from config.settings.env import encryption_keys
from patients.models import PatientIdentity, QuarantinedRecord

# Fictitious locating data. The phone number is in PTS's range reserved for fiction.
LOCATING_VALUES: dict[str, Any] = {
    "registered_address": {
        "care_of": "Anna Andersson",
        "street": "Storgatan 12 lgh 1102",
        "postal_code": "11122",
        "city": "STOCKHOLM",
    },
    "special_postal_address": {
        "street": "Särskild postadress, Box 4711",
        "postal_code": "11199",
        "city": "STOCKHOLM",
    },
    "foreign_address": {
        "lines": ["12 Rue de l'Exemple", "75001 Paris"],
        "country": "Frankrike",
    },
    "municipality_code": "0180",
    "phone": "070-1740605",
}

RECORD_XML = (
    "<Folkbokforingspost><Personpost><PersonId><PersonNr>194201077098</PersonNr></PersonId>"
    "<Adresser><Folkbokforingsadress><Utdelningsadress2>Storgatan 12 lgh 1102"
    "</Utdelningsadress2></Folkbokforingsadress></Adresser></Personpost></Folkbokforingspost>"
)

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


def sql_names(model: type[models.Model], field_name: str) -> tuple[str, str, str]:
    """The quoted table, column and primary-key column names of ``field_name``, for raw SQL."""
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
    table, column, pk_column = sql_names(model, field_name)
    with connection.cursor() as cursor:
        # Identifiers come from model metadata and are quoted; the pk is a parameter.
        cursor.execute(f"SELECT {column} FROM {table} WHERE {pk_column} = %s", [pk])  # noqa: S608
        row = cursor.fetchone()
    assert row is not None
    value: str | None = row[0]
    return value


def set_raw_value(model: type[models.Model], field_name: str, pk: Any, value: str | None) -> None:
    table, column, pk_column = sql_names(model, field_name)
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
