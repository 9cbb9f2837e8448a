"""CAT-1: a publication and a withdrawal take effect on their days (``Article.assortment_from``
and ``assortment_until``, read by the assortment's readers), and an agreement header's moves
have a history row, append-only for the application role as every history table (LEAK-6,
0022_history_append_only)."""

import django.db.models.deletion
import django.db.models.functions.datetime
from django.conf import settings
from typing import Any

from django.db import migrations, models

from patients.dbroles import append_only_for_application, writable_for_application

HISTORY_TABLES = ("prescriptions_agreementtransition",)

# Publications and withdrawals made ahead of time before this migration took effect at once:
# give them their day back, from the period that recorded it.
FUTURE_PUBLICATIONS = """
UPDATE prescriptions_article AS a SET assortment_from = p.published_from
FROM prescriptions_assortmentperiod AS p
WHERE p.article_id = a.id AND p.withdrawn_by_id IS NULL AND p.published_from > CURRENT_DATE
"""
FUTURE_WITHDRAWALS = """
UPDATE prescriptions_article AS a SET in_assortment = true, assortment_until = p.until
FROM prescriptions_assortmentperiod AS p
WHERE p.article_id = a.id AND p.withdrawn_by_id IS NOT NULL AND p.until > CURRENT_DATE
  AND p.published_from <= CURRENT_DATE AND NOT a.in_assortment
  AND NOT EXISTS (
    SELECT 1 FROM prescriptions_assortmentperiod AS o
    WHERE o.article_id = a.id AND o.withdrawn_by_id IS NULL
  )
"""


def revoke(apps: Any, schema_editor: Any) -> None:
    append_only_for_application(schema_editor, HISTORY_TABLES)


def grant_back(apps: Any, schema_editor: Any) -> None:
    writable_for_application(schema_editor, HISTORY_TABLES)


class Migration(migrations.Migration):

    dependencies = [
        ('prescriptions', '0023_competence_decision_append_only'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='article',
            name='assortment_from',
            field=models.DateField(blank=True, null=True, verbose_name='in assortment from'),
        ),
        migrations.AddField(
            model_name='article',
            name='assortment_until',
            field=models.DateField(blank=True, null=True, verbose_name='in assortment until'),
        ),
        migrations.CreateModel(
            name='AgreementTransition',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='when')),
                ('note', models.CharField(blank=True, default='', max_length=300, verbose_name='note')),
                ('from_state', models.CharField(blank=True, choices=[('draft', 'draft'), ('active', 'active'), ('ended', 'ended')], max_length=32, verbose_name='from')),
                ('to_state', models.CharField(choices=[('draft', 'draft'), ('active', 'active'), ('ended', 'ended')], max_length=32, verbose_name='to')),
                ('agreement', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='transitions', to='prescriptions.agreement')),
                ('by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='by')),
            ],
            options={
                'verbose_name': 'agreement transition',
                'verbose_name_plural': 'agreement transitions',
                'ordering': ['at', 'pk'],
                'abstract': False,
            },
        ),
        migrations.RunSQL(FUTURE_PUBLICATIONS, migrations.RunSQL.noop),
        migrations.RunSQL(FUTURE_WITHDRAWALS, migrations.RunSQL.noop),
        migrations.RunPython(revoke, grant_back),
    ]
