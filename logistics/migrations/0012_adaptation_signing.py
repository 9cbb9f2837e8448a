"""PRESC-6 (seed 004, digital signing): the special adaptation's signing request, its history,
and the signed adaptation filed with the device (append-only: a trigger, as delivery attempts
have, since the document is encrypted and the key rotation re-encrypts it). The device carries
the mark of an unsigned adaptation: a CHECK keeps it out of delivery and use, and a trigger lets
the mark be cleared only by a signed adaptation recorded since. The request's history is
append-only by privileges (0002's way)."""

from typing import Any

import django.contrib.postgres.fields
import django.db.models.deletion
import django.db.models.functions.datetime
import patients.fields
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models

from patients.dbroles import append_only_for_application, writable_for_application

HISTORY_TABLES = ("logistics_adaptationsigningtransition",)


def revoke(apps: Any, schema_editor: Any) -> None:
    append_only_for_application(schema_editor, HISTORY_TABLES)


def grant_back(apps: Any, schema_editor: Any) -> None:
    writable_for_application(schema_editor, HISTORY_TABLES)


class Migration(migrations.Migration):

    dependencies = [
        ('logistics', '0011_safety_notices'),
        ('patients', '0009_admin_masking'),
        ('prescriptions', '0015_presc6_signature_on_work_order'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AdaptationRecord',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('document_content_type', models.CharField(max_length=100)),
                ('document_size', models.PositiveIntegerField(verbose_name='size (bytes)')),
                ('document', patients.fields.EncryptedTextField(verbose_name='document content')),
                ('method', models.CharField(choices=[('digital', 'signed in the product'), ('paper', 'signed on paper')], max_length=8, verbose_name='signed')),
                ('signed_on', models.DateField(verbose_name='signed on')),
                ('risks_considered', django.contrib.postgres.fields.ArrayField(base_field=models.CharField(choices=[('stability', 'stability and tipping'), ('pressure', 'pressure, skin and posture'), ('pinching', 'pinching and entrapment'), ('strength', 'strength and durability of the adaptation'), ('combination', 'use together with other devices'), ('environment', 'the environment where it is used')], max_length=16), blank=True, default=list, size=None, verbose_name='risks considered')),
                ('conclusion', models.CharField(blank=True, choices=[('safe', 'The adapted device can be used safely.'), ('safe_with_measures', 'The adapted device can be used safely with the measures described.')], default='', max_length=24, verbose_name='conclusion')),
                ('measures', patients.fields.EncryptedTextField(blank=True, default='', verbose_name='measures')),
                ('recorded_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='recorded')),
            ],
            options={
                'verbose_name': 'signed adaptation',
                'verbose_name_plural': 'signed adaptations',
                'ordering': ['-recorded_at', '-pk'],
            },
        ),
        migrations.CreateModel(
            name='AdaptationSigningRequest',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('document_content_type', models.CharField(max_length=100)),
                ('document_size', models.PositiveIntegerField(verbose_name='size (bytes)')),
                ('document', patients.fields.EncryptedTextField(verbose_name='document content')),
                ('state', models.CharField(choices=[('sent', 'awaiting signature'), ('declined', 'declined'), ('signed', 'signed'), ('signed_on_paper', 'signed on paper')], default='sent', max_length=16, verbose_name='state')),
                ('valid_until', models.DateField(verbose_name='valid until')),
                ('declined_reason', patients.fields.EncryptedTextField(blank=True, default='', verbose_name='reason for declining')),
                ('reminded_at', models.DateTimeField(blank=True, null=True, verbose_name='last reminder')),
                ('sent_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='sent')),
                ('decided_at', models.DateTimeField(blank=True, null=True, verbose_name='decided')),
            ],
            options={
                'verbose_name': 'signing request',
                'verbose_name_plural': 'signing requests',
                'ordering': ['-sent_at', '-pk'],
            },
        ),
        migrations.CreateModel(
            name='AdaptationSigningTransition',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='when')),
                ('note', models.CharField(blank=True, default='', max_length=300, verbose_name='note')),
                ('from_state', models.CharField(blank=True, choices=[('sent', 'awaiting signature'), ('declined', 'declined'), ('signed', 'signed'), ('signed_on_paper', 'signed on paper')], max_length=32, verbose_name='from')),
                ('to_state', models.CharField(choices=[('sent', 'awaiting signature'), ('declined', 'declined'), ('signed', 'signed'), ('signed_on_paper', 'signed on paper')], max_length=32, verbose_name='to')),
            ],
            options={
                'verbose_name': 'signing request transition',
                'verbose_name_plural': 'signing request transitions',
                'ordering': ['at', 'pk'],
                'abstract': False,
            },
        ),
        migrations.AddField(
            model_name='device',
            name='adaptation_unsigned_since',
            field=models.DateTimeField(blank=True, null=True, verbose_name='adaptation awaiting signature since'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='device',
            trigger=pgtrigger.compiler.Trigger(name='device_adaptation_cleared_by_record', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (NEW."adaptation_unsigned_since" IS NULL AND OLD."adaptation_unsigned_since" IS NOT NULL)', func="IF NOT EXISTS (SELECT 1 FROM logistics_adaptationrecord r WHERE r.device_id = NEW.id AND r.recorded_at >= OLD.adaptation_unsigned_since) THEN RAISE EXCEPTION 'PRESC-6: device % has no signed adaptation', NEW.id USING ERRCODE = 'check_violation'; END IF; RETURN NEW;", hash='9813d82cfadc48a3d84fb8c7a123d3b9222d38d4', operation='UPDATE OF "adaptation_unsigned_since"', pgid='pgtrigger_device_adaptation_cleared_by_record_430dd', table='logistics_device', when='BEFORE')),
        ),
        migrations.AddConstraint(
            model_name='device',
            constraint=models.CheckConstraint(condition=models.Q(('adaptation_unsigned_since__isnull', True), models.Q(('status__in', ('in_transit', 'at_unit', 'on_loan', 'in_use_at_unit')), _negated=True), _connector='OR'), name='device_adaptation_signed_before_use'),
        ),
        migrations.AddField(
            model_name='adaptationrecord',
            name='device',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='adaptation_records', to='logistics.device', verbose_name='device'),
        ),
        migrations.AddField(
            model_name='adaptationrecord',
            name='recorded_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='recorded by'),
        ),
        migrations.AddField(
            model_name='adaptationrecord',
            name='signed_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='signed by'),
        ),
        migrations.AddField(
            model_name='adaptationrecord',
            name='work_order',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='adaptation_records', to='logistics.workorder', verbose_name='work order'),
        ),
        migrations.AddField(
            model_name='adaptationsigningrequest',
            name='device',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='signing_requests', to='logistics.device', verbose_name='device'),
        ),
        migrations.AddField(
            model_name='adaptationsigningrequest',
            name='prescriber',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='prescriber'),
        ),
        migrations.AddField(
            model_name='adaptationsigningrequest',
            name='sent_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='sent by'),
        ),
        migrations.AddField(
            model_name='adaptationsigningrequest',
            name='work_order',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='signing_requests', to='logistics.workorder', verbose_name='work order'),
        ),
        migrations.AddField(
            model_name='adaptationrecord',
            name='request',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='record', to='logistics.adaptationsigningrequest', verbose_name='signing request'),
        ),
        migrations.AddField(
            model_name='adaptationsigningtransition',
            name='by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='by'),
        ),
        migrations.AddField(
            model_name='adaptationsigningtransition',
            name='request',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='transitions', to='logistics.adaptationsigningrequest'),
        ),
        migrations.AddIndex(
            model_name='adaptationsigningrequest',
            index=models.Index(fields=['prescriber', 'state'], name='signing_prescriber_idx'),
        ),
        migrations.AddIndex(
            model_name='adaptationsigningrequest',
            index=models.Index(fields=['work_order', 'state'], name='signing_work_order_idx'),
        ),
        migrations.AddConstraint(
            model_name='adaptationsigningrequest',
            constraint=models.UniqueConstraint(condition=models.Q(('state', 'sent')), fields=('work_order',), name='signing_one_open_per_work_order'),
        ),
        migrations.AddConstraint(
            model_name='adaptationrecord',
            constraint=models.CheckConstraint(condition=models.Q(('method', 'paper'), models.Q(('conclusion', ''), _negated=True), _connector='OR'), name='adaptation_record_digital_has_assessment'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='adaptationrecord',
            trigger=pgtrigger.compiler.Trigger(name='adaptation_record_append_only', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;", hash='bca3c351970455424a682fe3927f05050ca4df36', operation='UPDATE OR DELETE', pgid='pgtrigger_adaptation_record_append_only_43e9c', table='logistics_adaptationrecord', when='BEFORE')),
        ),
        migrations.RunPython(revoke, grant_back),
    ]
