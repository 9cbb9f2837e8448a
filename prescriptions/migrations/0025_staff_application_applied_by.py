"""STAFF-1: a manager may apply on behalf of a person at their unit; the application records
who applied (``applied_by``) beside whom it is for (``applicant``). Every earlier application
was sent by its applicant."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Checked at once, so that the column can be made NOT NULL in the same transaction (a deferred
# foreign-key check still pending would refuse the ALTER TABLE).
BACKFILL = (
    "SET CONSTRAINTS ALL IMMEDIATE; "
    "UPDATE prescriptions_staffapplication SET applied_by_id = applicant_id"
)


class Migration(migrations.Migration):
    dependencies = [
        ("prescriptions", "0024_agreement_history_assortment_from"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="staffapplication",
            name="applied_by",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="applied by",
            ),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="staffapplication",
            name="applied_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="applied by",
            ),
        ),
    ]
