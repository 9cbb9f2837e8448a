"""Model fields encrypted at rest with AES-256-GCM (see ``patients.crypto``).

Values are encrypted in ``get_prep_value`` and decrypted in ``from_db_value``; the context
(associated data) is ``<app_label>.<model>.<field>``, so a token only decrypts in its own column.
Encrypted columns cannot be searched: every lookup but ``isnull`` is refused rather than
silently comparing ciphertexts that never match.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import FieldError, ValidationError
from django.db import models
from django.db.models import Lookup
from django.utils.translation import gettext_lazy as _

from patients.crypto import decrypt_text, encrypt_text


def field_context(field: models.Field[Any, Any]) -> str:
    return f"{field.model._meta.label_lower}.{field.name}"


class _EncryptedMixin:
    """Shared by the text and JSON variants: the column is text holding a token."""

    def get_internal_type(self) -> str:
        return "TextField"

    def get_lookup(self, lookup_name: str) -> type[Lookup[Any]] | None:
        if lookup_name != "isnull":
            raise FieldError(
                f"{self.name!r} is encrypted; it can only be tested with __isnull"  # type: ignore[attr-defined]
            )
        return super().get_lookup(lookup_name)  # type: ignore[misc,no-any-return]

    def _encode(self, value: Any) -> str:
        raise NotImplementedError

    def _decode(self, text: str) -> Any:
        raise NotImplementedError

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return encrypt_text(self._encode(value), context=field_context(self))  # type: ignore[arg-type]

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return self._decode(decrypt_text(value, context=field_context(self)))  # type: ignore[arg-type]


class EncryptedTextField(_EncryptedMixin, models.TextField):  # type: ignore[type-arg]
    """A text value encrypted at rest (phone numbers, door codes, codes that locate a person)."""

    def _encode(self, value: Any) -> str:
        return str(value)

    def _decode(self, text: str) -> str:
        return text


class EncryptedJSONField(_EncryptedMixin, models.TextField):  # type: ignore[type-arg]
    """A JSON object encrypted at rest (addresses), kept as text: Postgres never sees its shape."""

    def _encode(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def _decode(self, text: str) -> Any:
        return json.loads(text)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValidationError(
                    _("%(field)s: not a valid JSON object."), params={"field": self.verbose_name}
                ) from exc
        return value

    def value_to_string(self, obj: models.Model) -> str:
        return self._encode(self.value_from_object(obj))
