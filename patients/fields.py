"""Model fields encrypted at rest with AES-256-GCM (see ``patients.crypto``).

Values are encrypted in ``get_prep_value`` and decrypted in ``from_db_value``; the context
(associated data) is ``<app_label>.<model>.<field>``, so a token only decrypts in its own column.
Encrypted columns cannot be searched: every lookup but ``isnull`` is refused rather than
silently comparing ciphertexts that never match.

The one exception is :class:`EncryptedNumberField`, for identity numbers, which must be found
by number: its column holds a keyed digest of the number in front of the token, and equality
compares digests (LEAK-6).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import EmptyResultSet, FieldError, ValidationError
from django.db import models
from django.db.models import Lookup, Transform
from django.db.models.expressions import Col
from django.db.models.sql.compiler import SQLCompiler
from django.utils.translation import gettext_lazy as _

from patients.crypto import (
    IDENTITY_DIGEST_LENGTH,
    decrypt_bytes,
    decrypt_text,
    encrypt_bytes,
    encrypt_text,
    identity_digest,
)


def field_context(field: models.Field[Any, Any]) -> str:
    return f"{field.model._meta.label_lower}.{field.name}"


class _EncryptedMixin:
    """Shared by the text and JSON variants: the column is text holding a token."""

    def get_internal_type(self) -> str:
        return "TextField"

    def get_lookup(self, lookup_name: str) -> type[Lookup[Any]] | None:
        # pgtrigger's IS [NOT] DISTINCT FROM compares the stored tokens of OLD and NEW, which
        # is what a trigger guarding a column against change means.
        if lookup_name not in {"isnull", "df", "ndf"}:
            if self.get_transform(lookup_name) is not None:  # type: ignore[attr-defined]
                return None  # a transform (a number's digest), not a lookup
            raise FieldError(
                f"{self.name!r} is encrypted; it can only be tested with __isnull"  # type: ignore[attr-defined]
            )
        return super().get_lookup(lookup_name)  # type: ignore[misc,no-any-return]

    def _encode(self, value: Any) -> str:
        raise NotImplementedError

    def _decode(self, text: str) -> Any:
        raise NotImplementedError

    # How the stored text holds its token: the whole of it, except for identity numbers.
    # ``rotate_encryption_key`` re-encrypts through these two.
    def token_of(self, stored: str) -> str:
        return stored

    def with_token(self, stored: str, token: str) -> str:
        return token

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


class EncryptedBinaryField(_EncryptedMixin, models.Field):  # type: ignore[type-arg]
    """Bytes encrypted at rest (rendered PDFs, LEAK-6), kept as a text token (a ``text``
    column: see the mixin's ``get_internal_type``)."""

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return encrypt_bytes(bytes(value), context=field_context(self))

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return decrypt_bytes(value, context=field_context(self))

    def value_to_string(self, obj: models.Model) -> str:
        # Serialising a PDF into a fixture or the admin's history has no use; never the bytes.
        return ""


class EncryptedNumberField(_EncryptedMixin, models.TextField):  # type: ignore[type-arg]
    """An identity number (personnummer, samordningsnummer, reservnummer), encrypted at rest
    and still found by number (LEAK-6).

    The column holds ``<digest>:<token>``: the keyed digest of the number
    (``patients.crypto.identity_digest``, 64 hex characters), then the encrypted number. The
    application's key makes the digest, so SQL run with the database's credentials alone reads
    neither the number nor a hash it could confirm a guess against; the application finds a
    number by its digest. Fields with the same ``purpose`` share digests, so a relation's
    number can be joined to an identity's.

    Lookups: ``exact`` and ``in`` take plain numbers (or, for ``exact``, another number column
    of the same purpose) and compare digests. For a subquery, compare digests explicitly:
    ``number__digest__in=Other.objects.values("number__digest")``. Anything else is refused.
    """

    def __init__(
        self,
        *args: Any,
        purpose: str = "identity-number",
        canonical: str | None = None,
        digest_column: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.purpose = purpose
        # A pattern the plain number must match in full, checked before it is sealed: the
        # database can no longer check the format of what it cannot read.
        self.canonical = canonical
        # The model's stored generated column holding this number's digest (a GeneratedField
        # of LEFT(<this column>, 64)), which lookups compare instead of the expression. Under
        # row-level security PostgreSQL may not use an index on LEFT(...): the function is not
        # leakproof, so the policy has to be checked on every row before it; a plain column's
        # equality is leakproof, so its index finds the row first (docs/performance.md).
        self.digest_column = digest_column
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.purpose != "identity-number":
            kwargs["purpose"] = self.purpose
        if self.canonical is not None:
            kwargs["canonical"] = self.canonical
        if self.digest_column is not None:
            kwargs["digest_column"] = self.digest_column
        return name, path, args, kwargs

    def digest(self, value: str) -> str:
        return identity_digest(str(value), purpose=self.purpose)

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        number = str(value)
        if self.canonical is not None and not re.fullmatch(self.canonical, number):
            # Never the value in the message: it may be a real number.
            raise ValueError(f"{field_context(self)}: not a number in its canonical form")
        token = encrypt_text(number, context=field_context(self))
        return f"{self.digest(number)}:{token}"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return decrypt_text(self.token_of(value), context=field_context(self))

    def token_of(self, stored: str) -> str:
        return stored[IDENTITY_DIGEST_LENGTH + 1 :]

    def with_token(self, stored: str, token: str) -> str:
        return f"{stored[:IDENTITY_DIGEST_LENGTH]}:{token}"

    def get_lookup(self, lookup_name: str) -> type[Lookup[Any]] | None:
        if lookup_name == "exact":
            return NumberExact
        if lookup_name == "in":
            return NumberIn
        return super().get_lookup(lookup_name)

    def _encode(self, value: Any) -> str:
        return str(value)

    def _decode(self, text: str) -> str:
        return text


def _digest_sql(expression: Any, compiler: SQLCompiler) -> tuple[str, list[Any]]:
    """SQL for the digest of a number column: its stored digest column where the model has
    one, else LEFT(column, 64)."""
    field = getattr(expression, "target", None)
    # Without a table alias the column is compiled for DDL (a check constraint's condition):
    # there the expression stays, as the constraints were created with it.
    if (
        isinstance(expression, Col)
        and expression.alias is not None
        and isinstance(field, EncryptedNumberField)
        and field.digest_column is not None
    ):
        table = compiler.quote_name_unless_alias(expression.alias)
        return f"{table}.{compiler.connection.ops.quote_name(field.digest_column)}", []
    sql, params = compiler.compile(expression)
    return f"LEFT({sql}, {IDENTITY_DIGEST_LENGTH})", list(params)


class NumberDigest(Transform):
    """``<number field>__digest``: the keyed digest a sealed number starts with."""

    lookup_name = "digest"
    output_field = models.CharField(max_length=IDENTITY_DIGEST_LENGTH)

    def as_sql(  # type: ignore[override]  # takes no function or template: it writes its own
        self, compiler: SQLCompiler, connection: Any, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        return _digest_sql(self.lhs, compiler)


EncryptedNumberField.register_lookup(NumberDigest)


class _NumberLookup(Lookup):
    # The right-hand side is a plain number: never sealed like a value to store.
    prepare_rhs = False

    @property
    def number_field(self) -> EncryptedNumberField:
        field = self.lhs.output_field
        assert isinstance(field, EncryptedNumberField)
        return field

    def lhs_digest(self, compiler: SQLCompiler) -> tuple[str, list[Any]]:
        return _digest_sql(self.lhs, compiler)


class NumberExact(_NumberLookup):
    lookup_name = "exact"

    def as_sql(self, compiler: SQLCompiler, connection: Any) -> Any:
        lhs, params = self.lhs_digest(compiler)
        if hasattr(self.rhs, "as_sql"):
            other = getattr(self.rhs, "output_field", None)
            if not (
                isinstance(other, EncryptedNumberField)
                and other.purpose == self.number_field.purpose
            ):
                raise FieldError(
                    f"{self.number_field.name!r} can only be compared with a number or another "
                    "number column of the same kind"
                )
            rhs_sql, rhs_params = _digest_sql(self.rhs, compiler)
            return f"{lhs} = {rhs_sql}", [*params, *rhs_params]
        return f"{lhs} = %s", [*params, self.number_field.digest(self.rhs)]


class NumberIn(_NumberLookup):
    lookup_name = "in"

    def as_sql(self, compiler: SQLCompiler, connection: Any) -> Any:
        if hasattr(self.rhs, "as_sql") or not isinstance(self.rhs, Iterable):
            raise FieldError(
                f"{self.number_field.name!r}__in takes plain numbers; for a subquery compare "
                "digests: __digest__in=<queryset>.values('<number field>__digest')"
            )
        digests = sorted({self.number_field.digest(v) for v in self.rhs if v is not None})
        if not digests:
            raise EmptyResultSet
        lhs, params = self.lhs_digest(compiler)
        placeholders = ", ".join(["%s"] * len(digests))
        return f"{lhs} IN ({placeholders})", [*params, *digests]
