"""LEAK-6: numbers and names encrypted by the application, numbers found by a keyed digest.

The columns change to the encrypted fields of ``patients.fields``; ``seal`` then rewrites the
values already stored, in batches, in the system context that row-level security lets see every
row. The format checks that the database could make on a plain number are gone (the fields make
them before sealing); in their place the database checks that every stored number is sealed.
"""

from typing import Any

import django.db.models.functions.text
from django.db import migrations, models

import patients.fields

_BATCH = 5000

# Table, key column, and which of its columns hold plain values to seal.
_TABLES = (
    (
        "PatientIdentity",
        "patient_id",
        ("personal_identity_number", "reserve_number", "given_names", "middle_name", "surname"),
    ),
    ("PatientRelation", "id", ("related_identity_number",)),
    ("NumberChange", "id", ("old_number", "new_number")),
)
_NUMBERS = {"personal_identity_number", "reserve_number"}


def seal(apps: Any, schema_editor: Any) -> None:
    _rewrite(apps, schema_editor, lambda field, value: field.get_prep_value(value))


def unseal(apps: Any, schema_editor: Any) -> None:
    """Back to plain values, for the reverse migration only."""
    _rewrite(apps, schema_editor, lambda field, value: field.from_db_value(value, None, None))


def _rewrite(apps: Any, schema_editor: Any, convert: Any) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT set_config('hjm.context', 'system', true)")
        for model_name, key, columns in _TABLES:
            model = apps.get_model("patients", model_name)
            table = model._meta.db_table
            fields = [model._meta.get_field(column) for column in columns]
            # Names from _TABLES above, never from input.
            select = f"SELECT {key}, {', '.join(columns)} FROM {table}"  # noqa: S608
            assignments = ", ".join(f"{column} = %s" for column in columns)
            update = f"UPDATE {table} SET {assignments} WHERE {key} = %s"  # noqa: S608
            after: Any = None
            while True:
                cursor.execute(
                    f"{select} WHERE %s::bigint IS NULL OR {key} > %s ORDER BY {key} "
                    f"LIMIT {_BATCH}",
                    [after, after],
                )
                rows = cursor.fetchall()
                if not rows:
                    break
                sealed = []
                for pk, *values in rows:
                    out = []
                    for column, field, value in zip(columns, fields, values, strict=True):
                        # An empty number was "none" before; NULL is "none" now.
                        if column in _NUMBERS and value == "":
                            value = None
                        out.append(None if value is None else convert(field, value))
                    sealed.append((*out, pk))
                cursor.executemany(update, sealed)
                after = rows[-1][0]


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0006_letter_channels"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="patientidentity",
            name="identity_number_canonical",
        ),
        migrations.RemoveConstraint(
            model_name="patientrelation",
            name="relation_unique",
        ),
        migrations.RemoveIndex(
            model_name="patientrelation",
            name="relation_number_idx",
        ),
        migrations.AlterField(
            model_name="numberchange",
            name="new_number",
            field=patients.fields.EncryptedNumberField(),
        ),
        migrations.AlterField(
            model_name="numberchange",
            name="old_number",
            field=patients.fields.EncryptedNumberField(),
        ),
        migrations.AlterField(
            model_name="patientidentity",
            name="given_names",
            field=patients.fields.EncryptedTextField(
                blank=True, default="", verbose_name="given names"
            ),
        ),
        migrations.AlterField(
            model_name="patientidentity",
            name="middle_name",
            field=patients.fields.EncryptedTextField(
                blank=True, default="", verbose_name="middle name"
            ),
        ),
        migrations.AlterField(
            model_name="patientidentity",
            name="personal_identity_number",
            field=patients.fields.EncryptedNumberField(
                blank=True,
                canonical="[0-9]{12}",
                null=True,
                verbose_name="personnummer or samordningsnummer",
            ),
        ),
        migrations.AlterField(
            model_name="patientidentity",
            name="reserve_number",
            field=patients.fields.EncryptedNumberField(
                blank=True, null=True, verbose_name="reservnummer"
            ),
        ),
        migrations.AlterField(
            model_name="patientidentity",
            name="surname",
            field=patients.fields.EncryptedTextField(
                blank=True, default="", verbose_name="surname"
            ),
        ),
        migrations.AlterField(
            model_name="patientrelation",
            name="related_identity_number",
            field=patients.fields.EncryptedNumberField(),
        ),
        migrations.RunPython(seal, unseal, elidable=False),
        migrations.AddIndex(
            model_name="patientrelation",
            index=models.Index(
                django.db.models.functions.text.Left("related_identity_number", 64),
                name="relation_number_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="patientidentity",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("personal_identity_number__digest__regex", "^[0-9a-f]{64}$"),
                    ("personal_identity_number__isnull", True),
                    _connector="OR",
                ),
                name="identity_number_sealed",
            ),
        ),
        migrations.AddConstraint(
            model_name="patientidentity",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("reserve_number__digest__regex", "^[0-9a-f]{64}$"),
                    ("reserve_number__isnull", True),
                    _connector="OR",
                ),
                name="identity_reserve_number_sealed",
            ),
        ),
        migrations.AddConstraint(
            model_name="patientidentity",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Left("personal_identity_number", 64),
                name="identity_number_unique",
            ),
        ),
        migrations.AddConstraint(
            model_name="patientidentity",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Left("reserve_number", 64),
                name="identity_reserve_number_unique",
            ),
        ),
        migrations.AddConstraint(
            model_name="patientrelation",
            constraint=models.UniqueConstraint(
                models.F("patient"),
                models.F("kind"),
                django.db.models.functions.text.Left("related_identity_number", 64),
                name="relation_unique",
            ),
        ),
        migrations.AddConstraint(
            model_name="patientrelation",
            constraint=models.CheckConstraint(
                condition=models.Q(("related_identity_number__digest__regex", "^[0-9a-f]{64}$")),
                name="relation_number_sealed",
            ),
        ),
    ]
