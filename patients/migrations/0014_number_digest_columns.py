"""The identity numbers' digests as stored generated columns with plain indexes (issue 16).

Lookups by number and the PROT-5 joins compared ``left(<number>, 64)`` through expression
indexes, which row-level security keeps the planner from using (``left()`` is not leakproof;
protection 0021 says more). The unique indexes keep their names, now on the columns, and the
register's first load builds them again with these definitions (``navet_first_load_end``,
replaced here; patients 0013 says why it exists).
"""

from importlib import import_module

import django.db.models.functions.text
import patients.fields
from django.db import migrations, models

_0013 = import_module("patients.migrations.0013_navet_first_load")

# What the models declare now (PatientIdentity and PatientRelation's Meta), word for word.
INDEXES = (
    "CREATE UNIQUE INDEX identity_number_unique ON public.patients_patientidentity (number_digest)",
    "CREATE UNIQUE INDEX relation_unique ON public.patients_patientrelation "
    "(patient_id, kind, related_digest)",
    "CREATE INDEX relation_number_idx ON public.patients_patientrelation (related_digest)",
)


def _end_sql(indexes: tuple[str, ...]) -> str:
    build = ";\n    ".join(indexes)
    end_sql: str = _0013.END_SQL
    return end_sql.replace(_0013._BUILD, build).replace(
        "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1
    )


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0013_navet_first_load"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="patientidentity",
            name="identity_number_unique",
        ),
        migrations.RemoveConstraint(
            model_name="patientidentity",
            name="identity_reserve_number_unique",
        ),
        migrations.RemoveConstraint(
            model_name="patientrelation",
            name="relation_unique",
        ),
        migrations.RemoveIndex(
            model_name="patientrelation",
            name="relation_number_idx",
        ),
        migrations.AddField(
            model_name="patientidentity",
            name="number_digest",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.text.Left("personal_identity_number", 64),
                output_field=models.CharField(max_length=64, null=True),
            ),
        ),
        migrations.AddField(
            model_name="patientidentity",
            name="reserve_digest",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.text.Left("reserve_number", 64),
                output_field=models.CharField(max_length=64, null=True),
            ),
        ),
        migrations.AddField(
            model_name="patientrelation",
            name="related_digest",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.text.Left("related_identity_number", 64),
                output_field=models.CharField(max_length=64),
            ),
        ),
        migrations.AlterField(
            model_name="patientidentity",
            name="personal_identity_number",
            field=patients.fields.EncryptedNumberField(
                blank=True,
                canonical="[0-9]{12}",
                digest_column="number_digest",
                null=True,
                verbose_name="personnummer or samordningsnummer",
            ),
        ),
        migrations.AlterField(
            model_name="patientidentity",
            name="reserve_number",
            field=patients.fields.EncryptedNumberField(
                blank=True, digest_column="reserve_digest", null=True, verbose_name="reservnummer"
            ),
        ),
        migrations.AlterField(
            model_name="patientrelation",
            name="related_identity_number",
            field=patients.fields.EncryptedNumberField(digest_column="related_digest"),
        ),
        migrations.AddIndex(
            model_name="patientrelation",
            index=models.Index(fields=["related_digest"], name="relation_number_idx"),
        ),
        migrations.AddConstraint(
            model_name="patientidentity",
            constraint=models.UniqueConstraint(
                models.F("number_digest"), name="identity_number_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="patientidentity",
            constraint=models.UniqueConstraint(
                models.F("reserve_digest"), name="identity_reserve_number_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="patientrelation",
            constraint=models.UniqueConstraint(
                models.F("patient"),
                models.F("kind"),
                models.F("related_digest"),
                name="relation_unique",
            ),
        ),
        migrations.RunSQL(_end_sql(INDEXES), _end_sql(_0013.INDEXES)),
    ]
