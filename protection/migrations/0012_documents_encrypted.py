"""LEAK-6: rendered documents and letter texts encrypted at rest by the application.

The immutability triggers name both columns, and PostgreSQL cannot change the type of a column a
trigger names, so they are taken off, the columns changed and the stored values encrypted, and
the same triggers put back. A PDF's bytes come out of the type change as ``bytea``'s text form
(``\\x`` and hex), which ``encrypt`` turns back into bytes before sealing them.
"""

from typing import Any

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations

import patients.fields

_BATCH = 200  # rendered PDFs: a few hundred kilobytes each at most


def _encrypt_column(
    schema_editor: Any, *, table: str, key: str, column: str, seal: Any, decode: Any
) -> None:
    # Names from the calls below, never from input.
    select = f"SELECT {key}, {column} FROM {table}"  # noqa: S608
    update = f"UPDATE {table} SET {column} = %s WHERE {key} = %s"  # noqa: S608
    with schema_editor.connection.cursor() as cursor:
        after: Any = None
        while True:
            cursor.execute(
                f"{select} WHERE {column} IS NOT NULL AND (%s::bigint IS NULL OR {key} > %s) "
                f"ORDER BY {key} LIMIT {_BATCH}",
                [after, after],
            )
            rows = cursor.fetchall()
            if not rows:
                return
            cursor.executemany(update, [(seal(decode(value)), pk) for pk, value in rows])
            after = rows[-1][0]


def decrypt(apps: Any, schema_editor: Any) -> None:
    """Back to plain values, for the reverse migration only (``bytea`` reads hex text back)."""
    document = apps.get_model("protection", "Document")._meta.get_field("content")
    letter = apps.get_model("protection", "Letter")._meta.get_field("body")
    _encrypt_column(
        schema_editor,
        table="protection_document",
        key="job_id",
        column="content",
        seal=lambda token: "\\x" + document.from_db_value(token, None, None).hex(),
        decode=lambda text: text,
    )
    _encrypt_column(
        schema_editor,
        table="protection_letter",
        key="id",
        column="body",
        seal=lambda token: letter.from_db_value(token, None, None),
        decode=lambda text: text,
    )


def encrypt(apps: Any, schema_editor: Any) -> None:
    document = apps.get_model("protection", "Document")._meta.get_field("content")
    letter = apps.get_model("protection", "Letter")._meta.get_field("body")
    _encrypt_column(
        schema_editor,
        table="protection_document",
        key="job_id",
        column="content",
        seal=document.get_prep_value,
        decode=lambda text: bytes.fromhex(text[2:]),
    )
    _encrypt_column(
        schema_editor,
        table="protection_letter",
        key="id",
        column="body",
        seal=letter.get_prep_value,
        decode=lambda text: text,
    )


class Migration(migrations.Migration):
    dependencies = [("protection", "0011_identity_digests")]

    operations = [
        pgtrigger.migrations.RemoveTrigger(model_name="document", name="document_immutable"),
        pgtrigger.migrations.RemoveTrigger(model_name="letter", name="letter_immutable"),
        migrations.AlterField(
            model_name="document",
            name="content",
            field=patients.fields.EncryptedBinaryField(null=True),
        ),
        migrations.AlterField(
            model_name="letter",
            name="body",
            field=patients.fields.EncryptedTextField(verbose_name="text"),
        ),
        migrations.RunPython(encrypt, decrypt, elidable=False),
        pgtrigger.migrations.AddTrigger(
            model_name="document",
            trigger=pgtrigger.compiler.Trigger(
                name="document_immutable",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition='WHEN (OLD."content_sha256" IS DISTINCT FROM (NEW."content_sha256") OR OLD."created_at" IS DISTINCT FROM (NEW."created_at") OR (NEW."content" IS NOT NULL AND OLD."content" IS DISTINCT FROM (NEW."content")))',
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table', TG_TABLE_NAME;",
                    hash="f1c5c96509549fefa51e47d5a6bb4d83a1bdeefa",
                    operation="UPDATE",
                    pgid="pgtrigger_document_immutable_1ea06",
                    table="protection_document",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="letter",
            trigger=pgtrigger.compiler.Trigger(
                name="letter_immutable",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition='WHEN (OLD."subject" IS DISTINCT FROM (NEW."subject") OR OLD."body" IS DISTINCT FROM (NEW."body") OR OLD."template" IS DISTINCT FROM (NEW."template") OR OLD."patient_id" IS DISTINCT FROM (NEW."patient_id") OR OLD."unit_id" IS DISTINCT FROM (NEW."unit_id") OR OLD."registered" IS DISTINCT FROM (NEW."registered") OR OLD."channel" IS DISTINCT FROM (NEW."channel") OR OLD."job_id" IS DISTINCT FROM (NEW."job_id"))',
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table', TG_TABLE_NAME;",
                    hash="6352a96da3fbf1f0c191c6423787dbc8e9d9be6e",
                    operation="UPDATE",
                    pgid="pgtrigger_letter_immutable_f2da0",
                    table="protection_letter",
                    when="BEFORE",
                ),
            ),
        ),
    ]
