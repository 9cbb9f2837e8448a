"""BILL-2, BILL-3, LEAK-4 (B3): the finance export and its invoices, the move of a newly
protected person's account to a secret number, its review, the manual-invoicing list and the
withdrawals by hand. Exports, moves and reviews are records: triggers refuse changes, and the
application role also loses UPDATE and DELETE on them (see 0001_initial)."""

from typing import Any

from patients.dbroles import append_only_for_application, writable_for_application

import django.db.models.deletion
import django.db.models.functions.datetime
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


APPEND_ONLY = (
    "billing_financeexport",
    "billing_financeexportinvoice",
    "billing_protectedaccountmove",
    "billing_protectedaccountreview",
)


def revoke(apps: Any, schema_editor: Any) -> None:
    append_only_for_application(schema_editor, APPEND_ONLY)


def grant_back(apps: Any, schema_editor: Any) -> None:
    writable_for_application(schema_editor, APPEND_ONLY)


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0002_credited_line'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='FinanceExport',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveIntegerField(unique=True, verbose_name='number')),
                ('month', models.DateField(verbose_name='month')),
                ('format', models.CharField(choices=[('fixed', 'customer invoices, fixed width'), ('sie', 'SIE 4i vouchers')], max_length=8, verbose_name='format')),
                ('content', models.BinaryField(verbose_name='file')),
                ('sha256', models.CharField(max_length=64, verbose_name='digest (SHA-256)')),
                ('invoice_count', models.PositiveIntegerField(verbose_name='invoices')),
                ('total_sek', models.DecimalField(decimal_places=2, max_digits=16, verbose_name='total (SEK)')),
                ('created_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='exported')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='exported by')),
            ],
            options={
                'verbose_name': 'finance export',
                'verbose_name_plural': 'finance exports',
                'ordering': ['-created_at', '-pk'],
            },
        ),
        migrations.CreateModel(
            name='FinanceExportInvoice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('format', models.CharField(choices=[('fixed', 'customer invoices, fixed width'), ('sie', 'SIE 4i vouchers')], max_length=8, verbose_name='format')),
                ('export', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='items', to='billing.financeexport')),
                ('invoice', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='exports', to='billing.invoice')),
            ],
            options={
                'verbose_name': 'exported invoice',
                'verbose_name_plural': 'exported invoices',
                'ordering': ['export', 'invoice'],
            },
        ),
        migrations.CreateModel(
            name='ManualInvoiceItem',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason', models.CharField(choices=[('protected_charge', 'patient fee of a protected person'), ('protected_invoice', 'invoice to a protected person')], max_length=20, verbose_name='reason')),
                ('amount_sek', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='amount (SEK)')),
                ('order_number', models.CharField(blank=True, default='', max_length=32, verbose_name='order number')),
                ('listed_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='listed')),
                ('handled_at', models.DateTimeField(blank=True, null=True, verbose_name='invoiced by hand')),
                ('account', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='manual_items', to='billing.billingaccount', verbose_name='billing account')),
                ('charge', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='manual_item', to='billing.chargeevent', verbose_name='charge')),
                ('handled_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='invoiced by hand by')),
                ('invoice', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='manual_item', to='billing.invoice', verbose_name='invoice')),
            ],
            options={
                'verbose_name': 'manual invoicing',
                'verbose_name_plural': 'manual invoicing',
                'ordering': ['listed_at', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='ProtectedAccountMove',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('old_customer_number', models.CharField(max_length=16, verbose_name='old customer number')),
                ('secret_customer_number', models.CharField(max_length=16, verbose_name='secret customer number')),
                ('charges_moved', models.PositiveIntegerField(verbose_name='charges moved')),
                ('invoices_moved', models.PositiveIntegerField(verbose_name='invoices moved')),
                ('moved_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='moved')),
                ('account', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='protected_move', to='billing.billingaccount', verbose_name='billing account')),
            ],
            options={
                'verbose_name': 'move to a secret customer number',
                'verbose_name_plural': 'moves to a secret customer number',
                'ordering': ['-moved_at', '-pk'],
            },
        ),
        migrations.CreateModel(
            name='ProtectedAccountReview',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reviewed_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='reviewed')),
                ('move', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='review', to='billing.protectedaccountmove', verbose_name='move to a secret customer number')),
                ('reviewed_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='reviewed by')),
            ],
            options={
                'verbose_name': 'review of a protected account',
                'verbose_name_plural': 'reviews of protected accounts',
                'ordering': ['-reviewed_at'],
            },
        ),
        migrations.CreateModel(
            name='Withdrawal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('listed_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='listed')),
                ('withdrawn_at', models.DateTimeField(blank=True, null=True, verbose_name='withdrawn')),
                ('export', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.financeexport', verbose_name='finance export')),
                ('invoice', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.invoice', verbose_name='invoice')),
                ('move', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='withdrawals', to='billing.protectedaccountmove', verbose_name='move to a secret customer number')),
                ('withdrawn_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='withdrawn by')),
            ],
            options={
                'verbose_name': 'withdrawal from finance',
                'verbose_name_plural': 'withdrawals from finance',
                'ordering': ['listed_at', 'pk'],
            },
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='financeexport',
            trigger=pgtrigger.compiler.Trigger(name='finance_export_kept', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;", hash='2bf344114f6ce72afe444144919fa9eaca5ff99e', operation='UPDATE OR DELETE', pgid='pgtrigger_finance_export_kept_fd7c4', table='billing_financeexport', when='BEFORE')),
        ),
        migrations.AddConstraint(
            model_name='financeexportinvoice',
            constraint=models.UniqueConstraint(fields=('invoice', 'format'), name='invoice_exported_once'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='financeexportinvoice',
            trigger=pgtrigger.compiler.Trigger(name='finance_export_item_kept', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;", hash='ead44580149aec638c2c72913dc0559235623c63', operation='UPDATE OR DELETE', pgid='pgtrigger_finance_export_item_kept_f1199', table='billing_financeexportinvoice', when='BEFORE')),
        ),
        migrations.AddConstraint(
            model_name='manualinvoiceitem',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('charge__isnull', False), ('invoice__isnull', True)), models.Q(('charge__isnull', True), ('invoice__isnull', False)), _connector='OR'), name='manual_item_one_source'),
        ),
        migrations.AddConstraint(
            model_name='manualinvoiceitem',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('handled_at__isnull', True), ('handled_by__isnull', True)), models.Q(('handled_at__isnull', False), ('handled_by__isnull', False)), _connector='OR'), name='manual_item_handled_by_someone'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='protectedaccountmove',
            trigger=pgtrigger.compiler.Trigger(name='protected_move_append_only', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;", hash='60e57003ae2cacc3a4323f72e82cf5b53380c344', operation='UPDATE OR DELETE', pgid='pgtrigger_protected_move_append_only_5a6a1', table='billing_protectedaccountmove', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='protectedaccountreview',
            trigger=pgtrigger.compiler.Trigger(name='protected_review_kept', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;", hash='6f5cdf52507eced306313e752af6028c6660e414', operation='UPDATE OR DELETE', pgid='pgtrigger_protected_review_kept_7b31d', table='billing_protectedaccountreview', when='BEFORE')),
        ),
        migrations.AddConstraint(
            model_name='withdrawal',
            constraint=models.UniqueConstraint(fields=('move', 'invoice'), name='withdrawal_once'),
        ),
        migrations.AddConstraint(
            model_name='withdrawal',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('withdrawn_at__isnull', True), ('withdrawn_by__isnull', True)), models.Q(('withdrawn_at__isnull', False), ('withdrawn_by__isnull', False)), _connector='OR'), name='withdrawal_done_by_someone'),
        ),
        migrations.RunPython(revoke, grant_back),
    ]
