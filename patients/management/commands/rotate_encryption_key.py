"""Move every encrypted value to the current key of FIELD_ENCRYPTION_KEYS (LEAK-3).

Usage::

    python manage.py rotate_encryption_key [--batch-size N] [--check]

Key rotation is done in three steps: put the new key first in ``FIELD_ENCRYPTION_KEYS`` and keep
the old one after it (every listed key decrypts, the first encrypts); run this command; once
``--check`` passes, the old key can be removed.

The command finds every model with encrypted fields, reads the raw token of each encrypted
column (cast to plain text, so nothing is decrypted through the field), and re-encrypts every
token whose key id is not the current one: decrypted with the old key, encrypted with the
current key under the same context (associated data), written back with an UPDATE. Work is
done in batches ordered by primary key, each batch in its own transaction with its rows locked
(``SELECT ... FOR UPDATE``), so the command is safe to interrupt and to re-run: a value already
under the current key is left alone.

Fails closed: a value under a key id that is not in ``FIELD_ENCRYPTION_KEYS``, or a value that
does not decrypt, stops the command with the model, field, primary key and key id named; the
batch holding it is rolled back, so that row is not changed. No value, plain or encrypted, is
ever printed.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import pgtrigger
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, router
from django.db.models.functions import Cast

from patients.crypto import (
    DecryptionError,
    current_key_id,
    decrypt_bytes,
    encrypt_bytes,
    key_id_of,
)
from patients.dbcontext import SYSTEM, db_context
from patients.fields import (
    EncryptedBinaryField,
    EncryptedJSONField,
    EncryptedNumberField,
    EncryptedTextField,
    field_context,
)

ENCRYPTED_FIELD_CLASSES: tuple[type[models.Field[Any, Any]], ...] = (
    EncryptedTextField,
    EncryptedJSONField,
    EncryptedBinaryField,
    EncryptedNumberField,
)

# Prefix of the annotations that carry a column's raw token; chosen so it cannot clash with a
# field name.
_RAW = "_rotation_raw_"


def encrypted_fields() -> list[tuple[type[models.Model], list[models.Field[Any, Any]]]]:
    """Every concrete model with encrypted columns, and those columns, in a stable order.

    Proxy and unmanaged models are skipped (a proxy shares its concrete model's table), and only
    a model's local columns are listed, so that with multi-table inheritance each column is
    handled once, by the model whose table holds it.
    """
    found: list[tuple[type[models.Model], list[models.Field[Any, Any]]]] = []
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        fields = [
            field
            for field in meta.local_concrete_fields
            if isinstance(field, ENCRYPTED_FIELD_CLASSES)
        ]
        if fields:
            found.append((model, fields))
    found.sort(key=lambda item: item[0]._meta.label)
    return found


@dataclass
class FieldCounts:
    """What was seen in one column. Counts only: never a value."""

    reencrypted: int = 0
    current: int = 0
    # Only counted with --check: under an older key that is still listed, or under a key id
    # that FIELD_ENCRYPTION_KEYS does not hold (such a value cannot be rotated).
    stale: int = 0
    unknown: int = 0


def _raw_rows(
    model: type[models.Model],
    fields: list[models.Field[Any, Any]],
    *,
    using: str,
    after: Any,
    batch_size: int,
    lock: bool,
) -> list[tuple[Any, ...]]:
    """``(pk, raw token of each field...)`` for the next batch, as stored, not decrypted.

    Keyset pagination on the primary key. The Cast to text gives each column an output field
    without ``from_db_value``, so the token is read as it is in the database. With ``lock`` the
    rows are locked (``FOR UPDATE``) until the caller's transaction ends.
    """
    queryset = model._base_manager.using(using).order_by("pk")
    if after is not None:
        queryset = queryset.filter(pk__gt=after)
    if lock:
        queryset = queryset.select_for_update()
    annotations = {
        f"{_RAW}{field.attname}": Cast(field.attname, output_field=models.TextField())
        for field in fields
    }
    return list(queryset.annotate(**annotations).values_list("pk", *annotations)[:batch_size])


def _describe(model: type[models.Model], field: models.Field[Any, Any]) -> str:
    return f"{model._meta.label}.{field.name}"


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field value that is not under the current key of "
        "FIELD_ENCRYPTION_KEYS (LEAK-3). With --check, only report and fail if any is left."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="Rows per transaction (default 500).",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Write nothing; exit with status 1 if any value is under a non-current key.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size: int = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        check: bool = options["check"]
        current = current_key_id()
        self.stdout.write(f"Current key id: {current}")

        targets = encrypted_fields()
        if not targets:
            self.stdout.write("No encrypted fields found.")
            return

        stale_total = 0
        for model, fields in targets:
            if check:
                counts = self._check_model(model, fields, current, batch_size)
            else:
                counts = self._rotate_model(model, fields, current, batch_size)
            for field in fields:
                c = counts[field.attname]
                stale_total += c.stale + c.unknown
                if check:
                    line = (
                        f"{_describe(model, field)}: {c.stale} under an older key, "
                        f"{c.current} already current"
                    )
                    if c.unknown:
                        line += f", {c.unknown} under an unknown key id (cannot be rotated)"
                    self.stdout.write(line)
                else:
                    self.stdout.write(
                        f"{_describe(model, field)}: {c.reencrypted} re-encrypted, "
                        f"{c.current} already current"
                    )

        if check:
            if stale_total:
                raise CommandError(
                    f"{stale_total} encrypted value(s) are not under the current key "
                    f"{current!r}; run rotate_encryption_key"
                )
            self.stdout.write(self.style.SUCCESS(f"All encrypted values use key {current!r}."))
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Done: all encrypted values use key {current!r}.")
            )

    def _check_model(
        self,
        model: type[models.Model],
        fields: list[models.Field[Any, Any]],
        current: str,
        batch_size: int,
    ) -> dict[str, FieldCounts]:
        """Count tokens per key state; reads only, locks nothing, writes nothing."""
        counts = {field.attname: FieldCounts() for field in fields}
        known = set(settings.FIELD_ENCRYPTION_KEYS)
        using = router.db_for_read(model)
        after: Any = None
        # Every row counts, protected patients' too: read in the system context that row-level
        # security lets see them all (one read-only transaction).
        with db_context(SYSTEM, using=using):
            while rows := _raw_rows(
                model, fields, using=using, after=after, batch_size=batch_size, lock=False
            ):
                for pk, *tokens in rows:
                    for field, token in zip(fields, tokens, strict=True):
                        if token is None:
                            continue
                        kid = self._key_id(model, field, pk, token)
                        if kid == current:
                            counts[field.attname].current += 1
                        elif kid in known:
                            counts[field.attname].stale += 1
                        else:
                            counts[field.attname].unknown += 1
                after = rows[-1][0]
        return counts

    def _rotate_model(
        self,
        model: type[models.Model],
        fields: list[models.Field[Any, Any]],
        current: str,
        batch_size: int,
    ) -> dict[str, FieldCounts]:
        """Re-encrypt stale tokens, one transaction per batch of locked rows.

        An error anywhere in a batch (an unknown key id, a token that does not decrypt) rolls
        that whole batch back; earlier batches stay committed, which is safe since they now hold
        tokens under the current key and a re-run skips them.
        """
        counts = {field.attname: FieldCounts() for field in fields}
        using = router.db_for_write(model)
        # The same text under another key is no change: the model's own pgtrigger triggers
        # (immutability of issued papers, history) stand aside for it. What the database
        # itself checks still holds (a letter or document token may only move to another key).
        triggers = getattr(model._meta, "triggers", [])  # pgtrigger's addition to Meta
        uris = [f"{model._meta.label}:{trigger.name}" for trigger in triggers]
        with pgtrigger.ignore(*uris, databases=[using]) if uris else nullcontext():
            return self._rotate_batches(model, fields, current, batch_size, using, counts)

    def _rotate_batches(
        self,
        model: type[models.Model],
        fields: list[models.Field[Any, Any]],
        current: str,
        batch_size: int,
        using: str,
        counts: dict[str, FieldCounts],
    ) -> dict[str, FieldCounts]:
        after: Any = None
        while True:
            batch_counts = {field.attname: FieldCounts() for field in fields}
            # The batch's transaction runs in the system context, so that row-level security
            # lets it re-encrypt protected patients' values too.
            with db_context(SYSTEM, using=using):
                rows = _raw_rows(
                    model, fields, using=using, after=after, batch_size=batch_size, lock=True
                )
                for pk, *tokens in rows:
                    changes: dict[str, Any] = {}
                    for field, token in zip(fields, tokens, strict=True):
                        if token is None:
                            continue
                        kid = self._key_id(model, field, pk, token)
                        if kid == current:
                            batch_counts[field.attname].current += 1
                            continue
                        new_token = self._reencrypt(model, field, pk, kid, token)
                        # A Value with a plain TextField output is written as is, where the
                        # field itself would encrypt it a second time. A number keeps its
                        # digest, which does not depend on this key.
                        changes[field.attname] = models.Value(
                            field.with_token(token, new_token),  # type: ignore[attr-defined]
                            output_field=models.TextField(),
                        )
                        batch_counts[field.attname].reencrypted += 1
                    if changes:
                        model._base_manager.using(using).filter(pk=pk).update(**changes)
            if not rows:
                return counts
            # Only count what was committed.
            for attname, c in batch_counts.items():
                counts[attname].reencrypted += c.reencrypted
                counts[attname].current += c.current
            after = rows[-1][0]

    @staticmethod
    def _key_id(
        model: type[models.Model], field: models.Field[Any, Any], pk: Any, token: str
    ) -> str:
        try:
            return key_id_of(field.token_of(token))  # type: ignore[attr-defined]
        except DecryptionError as exc:
            raise CommandError(
                f"{_describe(model, field)} pk={pk}: stored value is not an encrypted token; "
                "nothing was changed in this row"
            ) from exc

    @staticmethod
    def _reencrypt(
        model: type[models.Model],
        field: models.Field[Any, Any],
        pk: Any,
        kid: str,
        token: str,
    ) -> str:
        context = field_context(field)
        try:
            # As bytes: a PDF is not text, and text survives the round trip unchanged.
            plaintext = decrypt_bytes(field.token_of(token), context=context)  # type: ignore[attr-defined]
        except DecryptionError as exc:
            # DecryptionError messages carry key ids and contexts, never values.
            raise CommandError(
                f"{_describe(model, field)} pk={pk}: cannot decrypt value under key id {kid!r} "
                f"({exc}); nothing was changed in this row"
            ) from exc
        return encrypt_bytes(plaintext, context=context)
