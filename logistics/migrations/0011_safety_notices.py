"""Safety notices and their campaigns (DEVICE-2, DEVICE-5). A device in a store under a
published notice (``logistics_noticedevice.blocked``) cannot leave the store for delivery: the
database refuses the move as the picking service does, whoever writes it. The notice's history
is append-only for the application role (LEAK-6), as the floor's other histories. A work order
made for a device under a notice, once done, marks the device's outreach done (and lifts a
block) in the same transaction, whichever service finished it. The campaign's contacted and
done counts, in all and per week, are kept by a trigger on the outreach rows, so that the
campaign page reads a notice's row and its weeks, not every device."""

from typing import Any

import django.db.models.deletion
import django.db.models.functions.datetime
from django.conf import settings
from django.db import migrations, models

from patients.dbroles import append_only_for_application, writable_for_application

BLOCK_SQL = """
CREATE FUNCTION logistics_notice_block_guard() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM public.logistics_noticedevice n
        WHERE n.device_id = NEW.id AND n.blocked
    ) THEN
        RAISE EXCEPTION 'DEVICE-2: device % is blocked from delivery by a safety notice',
            NEW.serial_number
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION logistics_notice_block_guard() FROM PUBLIC;
CREATE TRIGGER logistics_notice_blocks_delivery
BEFORE UPDATE OF status ON logistics_device
FOR EACH ROW
WHEN (OLD.status = 'in_stock'
      AND NEW.status IN ('allocated', 'in_transit', 'at_unit', 'on_loan', 'in_use_at_unit'))
EXECUTE FUNCTION logistics_notice_block_guard();
"""

DONE_SQL = """
CREATE FUNCTION logistics_notice_work_done() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    UPDATE public.logistics_noticedevice
    SET state = 'done', done_at = now(), contacted_at = COALESCE(contacted_at, now()),
        blocked = false
    WHERE work_order_id = NEW.id AND state <> 'done';
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION logistics_notice_work_done() FROM PUBLIC;
CREATE TRIGGER logistics_notice_work_order_done
AFTER UPDATE OF state ON logistics_workorder
FOR EACH ROW
WHEN (NEW.state = 'done' AND OLD.state <> 'done')
EXECUTE FUNCTION logistics_notice_work_done();
"""

UNDONE_SQL = """
DROP TRIGGER IF EXISTS logistics_notice_work_order_done ON logistics_workorder;
DROP FUNCTION IF EXISTS logistics_notice_work_done();
"""

REACH_SQL = f"""
CREATE FUNCTION logistics_notice_reach() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF OLD.contacted_at IS NULL AND NEW.contacted_at IS NOT NULL THEN
        UPDATE public.logistics_safetynotice SET contacted = contacted + 1
        WHERE id = NEW.notice_id;
        INSERT INTO public.logistics_noticeweek (notice_id, week, contacted, done)
        VALUES (NEW.notice_id,
                date_trunc('week', NEW.contacted_at AT TIME ZONE '{settings.TIME_ZONE}')::date,
                1, 0)
        ON CONFLICT (notice_id, week)
        DO UPDATE SET contacted = public.logistics_noticeweek.contacted + 1;
    END IF;
    IF OLD.done_at IS NULL AND NEW.done_at IS NOT NULL THEN
        UPDATE public.logistics_safetynotice SET done = done + 1 WHERE id = NEW.notice_id;
        INSERT INTO public.logistics_noticeweek (notice_id, week, contacted, done)
        VALUES (NEW.notice_id,
                date_trunc('week', NEW.done_at AT TIME ZONE '{settings.TIME_ZONE}')::date, 0, 1)
        ON CONFLICT (notice_id, week)
        DO UPDATE SET done = public.logistics_noticeweek.done + 1;
    END IF;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION logistics_notice_reach() FROM PUBLIC;
CREATE TRIGGER logistics_notice_reach_counted
AFTER UPDATE OF contacted_at, done_at ON logistics_noticedevice
FOR EACH ROW EXECUTE FUNCTION logistics_notice_reach();
"""

UNREACH_SQL = """
DROP TRIGGER IF EXISTS logistics_notice_reach_counted ON logistics_noticedevice;
DROP FUNCTION IF EXISTS logistics_notice_reach();
"""

UNBLOCK_SQL = """
DROP TRIGGER IF EXISTS logistics_notice_blocks_delivery ON logistics_device;
DROP FUNCTION IF EXISTS logistics_notice_block_guard();
"""

HISTORY_TABLES = ("logistics_safetynoticetransition",)


def revoke(apps: Any, schema_editor: Any) -> None:
    append_only_for_application(schema_editor, HISTORY_TABLES)


def grant_back(apps: Any, schema_editor: Any) -> None:
    writable_for_application(schema_editor, HISTORY_TABLES)


class Migration(migrations.Migration):

    dependencies = [
        ('logistics', '0010_quality'),
        ('patients', '0009_admin_masking'),
        ('prescriptions', '0013_supply_side'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='SafetyNotice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.CharField(max_length=20, unique=True, verbose_name='notice number')),
                ('title', models.CharField(max_length=200, verbose_name='title')),
                ('manufacturer_reference', models.CharField(blank=True, default='', max_length=100, verbose_name="manufacturer's reference")),
                ('description', models.TextField(verbose_name='what the notice says')),
                ('action', models.CharField(choices=[('inspect', 'inspect'), ('retrofit', 'retrofit'), ('replace', 'replace'), ('withdraw', 'withdraw')], max_length=16, verbose_name='action')),
                ('state', models.CharField(choices=[('draft', 'draft'), ('published', 'published, campaign running'), ('closed', 'closed')], default='draft', max_length=16, verbose_name='state')),
                ('created_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='created')),
                ('published_at', models.DateTimeField(blank=True, null=True, verbose_name='published')),
                ('closed_at', models.DateTimeField(blank=True, null=True, verbose_name='closed')),
                ('found', models.PositiveIntegerField(default=0, verbose_name='devices found')),
                ('patients', models.PositiveIntegerField(default=0, verbose_name='held by patients')),
                ('protected_holders', models.PositiveIntegerField(default=0, verbose_name='protected holders')),
                ('units', models.PositiveIntegerField(default=0, verbose_name='held by units')),
                ('stores', models.PositiveIntegerField(default=0, verbose_name='in stores')),
                ('contacted', models.PositiveIntegerField(default=0, verbose_name='contacted')),
                ('done', models.PositiveIntegerField(default=0, verbose_name='done')),
                ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
            ],
            options={
                'verbose_name': 'safety notice',
                'verbose_name_plural': 'safety notices',
                'ordering': ['-created_at', '-pk'],
                'permissions': [('manage_safetynotice', 'Can publish safety notices and follow their campaigns')],
            },
        ),
        migrations.CreateModel(
            name='NoticeWeek',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('week', models.DateField(verbose_name='week starting')),
                ('contacted', models.PositiveIntegerField(default=0, verbose_name='contacted')),
                ('done', models.PositiveIntegerField(default=0, verbose_name='done')),
                ('notice', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='weeks', to='logistics.safetynotice')),
            ],
            options={
                'verbose_name': "week of a safety notice's campaign",
                'verbose_name_plural': 'weeks of safety notice campaigns',
                'ordering': ['notice', 'week'],
            },
        ),
        migrations.CreateModel(
            name='NoticeDevice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('holder_kind', models.CharField(choices=[('store', 'a store'), ('patient', 'a patient'), ('unit', 'a unit')], max_length=8, verbose_name='held by')),
                ('order_number', models.CharField(blank=True, default='', max_length=32, verbose_name='order number')),
                ('protected', models.BooleanField(default=False, verbose_name='protected identity')),
                ('blocked', models.BooleanField(default=False, verbose_name='blocked from delivery')),
                ('state', models.CharField(choices=[('found', 'found'), ('contacted', 'contacted'), ('done', 'done')], default='found', max_length=16, verbose_name='state')),
                ('found_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='found')),
                ('contacted_at', models.DateTimeField(blank=True, null=True, verbose_name='contacted')),
                ('done_at', models.DateTimeField(blank=True, null=True, verbose_name='done')),
                ('contact_unit', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.unit')),
                ('device', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='logistics.device')),
                ('holder_patient', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.patient')),
                ('holder_unit', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.unit')),
                ('location', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='logistics.stocklocation')),
                ('prescriber', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='prescriber')),
                ('work_order', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='notice_device', to='logistics.workorder', verbose_name='work order')),
                ('notice', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='devices', to='logistics.safetynotice')),
            ],
            options={
                'verbose_name': 'device under a safety notice',
                'verbose_name_plural': 'devices under safety notices',
                'ordering': ['notice', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='SafetyNoticeArticle',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('serial_from', models.CharField(blank=True, default='', max_length=64, verbose_name='serial numbers from')),
                ('serial_to', models.CharField(blank=True, default='', max_length=64, verbose_name='serial numbers to')),
                ('article', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='prescriptions.article', verbose_name='article')),
                ('notice', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='articles', to='logistics.safetynotice')),
            ],
            options={
                'verbose_name': 'article in a safety notice',
                'verbose_name_plural': 'articles in safety notices',
                'ordering': ['pk'],
            },
        ),
        migrations.CreateModel(
            name='SafetyNoticeTransition',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('from_state', models.CharField(blank=True, max_length=32, verbose_name='from')),
                ('to_state', models.CharField(max_length=32, verbose_name='to')),
                ('at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='when')),
                ('note', models.CharField(blank=True, default='', max_length=300, verbose_name='note')),
                ('by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='by')),
                ('notice', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='history', to='logistics.safetynotice')),
            ],
            options={
                'verbose_name': 'safety notice history',
                'verbose_name_plural': 'safety notice history',
                'ordering': ['at', 'pk'],
                'abstract': False,
            },
        ),
        migrations.AddIndex(
            model_name='safetynotice',
            index=models.Index(fields=['state', 'published_at'], name='notice_state_idx'),
        ),
        migrations.AddConstraint(
            model_name='noticeweek',
            constraint=models.UniqueConstraint(fields=('notice', 'week'), name='notice_week_once'),
        ),
        migrations.AddIndex(
            model_name='noticedevice',
            index=models.Index(fields=['notice', 'state'], name='notice_device_state_idx'),
        ),
        migrations.AddIndex(
            model_name='noticedevice',
            index=models.Index(condition=models.Q(('prescriber__isnull', False)), fields=['prescriber', 'notice'], name='notice_device_prescriber_idx'),
        ),
        migrations.AddIndex(
            model_name='noticedevice',
            index=models.Index(condition=models.Q(('blocked', True)), fields=['device'], name='notice_device_blocked_idx'),
        ),
        migrations.AddIndex(
            model_name='noticedevice',
            index=models.Index(condition=models.Q(('blocked', True)), fields=['notice'], name='notice_blocked_idx'),
        ),
        migrations.AddConstraint(
            model_name='noticedevice',
            constraint=models.UniqueConstraint(fields=('notice', 'device'), name='notice_device_once'),
        ),
        migrations.AddConstraint(
            model_name='safetynoticearticle',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('serial_from', ''), ('serial_to', '')), models.Q(models.Q(('serial_from', ''), _negated=True), models.Q(('serial_to', ''), _negated=True)), _connector='OR'), name='notice_serial_range_both_ends'),
        ),
        migrations.RunSQL(BLOCK_SQL, UNBLOCK_SQL),
        migrations.RunSQL(DONE_SQL, UNDONE_SQL),
        migrations.RunSQL(REACH_SQL, UNREACH_SQL),
        migrations.RunPython(revoke, grant_back),
    ]
