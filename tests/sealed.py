"""Identity columns as stored (LEAK-6): numbers and names are sealed by their fields, so a test
that reads them with raw SQL opens them here, and one that looks a number up with raw SQL
compares the number's digest, as the product's own SQL does."""

from __future__ import annotations

from typing import Any

from django.db import connection, models

from patients.fields import EncryptedNumberField
from patients.models import PatientIdentity


def number_digest(number: str) -> str:
    """The keyed digest a sealed identity number starts with."""
    field = PatientIdentity._meta.get_field("personal_identity_number")
    assert isinstance(field, EncryptedNumberField)
    return field.digest(number)


def opened(model: type[models.Model], field_name: str, stored: Any) -> Any:
    """A column's value as the model reads it, from what raw SQL returned."""
    field = model._meta.get_field(field_name)
    assert isinstance(field, models.Field)
    return field.from_db_value(stored, None, connection)


def sealed(model: type[models.Model], field_name: str, value: Any) -> Any:
    """What the field stores for ``value``: for a test that writes with raw SQL."""
    field = model._meta.get_field(field_name)
    assert isinstance(field, models.Field)
    return field.get_prep_value(value)
