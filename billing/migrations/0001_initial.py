"""The billing floor's tables. Charge events, issued invoices, their lines and their outbox
history are append-only: triggers refuse changes (for every role), and the application role
also loses UPDATE and DELETE on them, since a session may name a pgtrigger trigger in
``pgtrigger.ignore`` (see protection 0013_audit_append_only). It keeps UPDATE on the columns the
product changes: a charge's invoice link (set once, by the trigger) and an invoice's outbox
state and PDF link."""

from typing import Any

from patients.dbroles import append_only_for_application, application_role, writable_for_application

import django.db.models.deletion
import django.db.models.expressions
import django.db.models.functions.datetime
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


APPEND_ONLY = (
    "billing_chargeevent",
    "billing_invoice",
    "billing_invoiceline",
    "billing_invoicetransition",
)
COLUMN_GRANTS = (
    ("billing_chargeevent", "invoice_line_id"),
    ("billing_invoice", "state, pdf_job_id"),
)


def revoke(apps: Any, schema_editor: Any) -> None:
    append_only_for_application(schema_editor, APPEND_ONLY)
    app = application_role(schema_editor)
    with schema_editor.connection.cursor() as cursor:
        for table, columns in COLUMN_GRANTS:
            cursor.execute(f"GRANT UPDATE ({columns}) ON {table} TO {app}")


def grant_back(apps: Any, schema_editor: Any) -> None:
    app = application_role(schema_editor)
    with schema_editor.connection.cursor() as cursor:
        for table, columns in COLUMN_GRANTS:
            cursor.execute(f"REVOKE UPDATE ({columns}) ON {table} FROM {app}")
    writable_for_application(schema_editor, APPEND_ONLY)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('logistics', '0015_device_lot_number'),
        ('patients', '0009_admin_masking'),
        ('prescriptions', '0015_presc6_signature_on_work_order'),
        ('protection', '0017_contact_agreement'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='BillingAccount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('region', 'region'), ('municipality', 'municipality'), ('unit', 'care unit'), ('patient', 'patient')], max_length=16, verbose_name='kind')),
                ('customer_number', models.CharField(max_length=16, unique=True, verbose_name='customer number')),
                ('secret_customer_number', models.CharField(blank=True, max_length=16, null=True, unique=True, verbose_name='secret customer number')),
                ('municipality_code', models.CharField(blank=True, default='', max_length=4, verbose_name='municipality code')),
                ('name', models.CharField(blank=True, default='', max_length=200, verbose_name='name')),
                ('organisation_number', models.CharField(blank=True, default='', max_length=10, verbose_name='organisation number')),
                ('street', models.CharField(blank=True, default='', max_length=200, verbose_name='street address')),
                ('postal_code', models.CharField(blank=True, default='', max_length=6, verbose_name='postal code')),
                ('city', models.CharField(blank=True, default='', max_length=100, verbose_name='town')),
                ('email', models.EmailField(blank=True, default='', max_length=254, verbose_name='e-mail for invoices')),
                ('default_buyer_reference', models.CharField(blank=True, default='', max_length=64, verbose_name='default buyer reference')),
                ('created_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='registered')),
                ('patient', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.patient', verbose_name='patient')),
                ('region', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.region', verbose_name='region')),
                ('unit', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='prescriptions.prescribingunit', verbose_name='care unit')),
            ],
            options={
                'verbose_name': 'billing account',
                'verbose_name_plural': 'billing accounts',
                'ordering': ['customer_number'],
            },
        ),
        migrations.CreateModel(
            name='BillingRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField(verbose_name='month')),
                ('dry_run', models.BooleanField(verbose_name='preview only')),
                ('state', models.CharField(choices=[('running', 'running'), ('done', 'done'), ('refused', 'refused: not issued')], default='running', max_length=12, verbose_name='state')),
                ('summary', models.JSONField(default=dict, verbose_name='summary')),
                ('findings', models.JSONField(default=list, verbose_name='validation findings')),
                ('started_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='started')),
                ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished')),
                ('region', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.region', verbose_name='home region')),
                ('started_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='started by')),
            ],
            options={
                'verbose_name': 'billing run',
                'verbose_name_plural': 'billing runs',
                'ordering': ['-started_at'],
            },
        ),
        migrations.CreateModel(
            name='Invoice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('invoice', 'invoice'), ('credit_note', 'credit note')], max_length=12, verbose_name='kind')),
                ('series', models.CharField(max_length=8, verbose_name='series')),
                ('number', models.PositiveIntegerField(verbose_name='number')),
                ('issue_date', models.DateField(verbose_name='issue date')),
                ('due_date', models.DateField(verbose_name='due date')),
                ('buyer_reference', models.CharField(max_length=64, verbose_name='buyer reference')),
                ('buyer_name', models.CharField(max_length=200, verbose_name='buyer')),
                ('seller_snapshot', models.JSONField(verbose_name='seller')),
                ('currency', models.CharField(default='SEK', max_length=3, verbose_name='currency')),
                ('period_start', models.DateField(blank=True, null=True, verbose_name='period from')),
                ('period_end', models.DateField(blank=True, null=True, verbose_name='period to')),
                ('total_net_sek', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='net total (SEK)')),
                ('total_vat_sek', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='VAT (SEK)')),
                ('total_payable_sek', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='to pay (SEK)')),
                ('state', models.CharField(choices=[('issued', 'issued, waiting to be sent'), ('sent', 'sent'), ('delivered', 'delivered'), ('rejected', 'rejected by the receiver')], default='issued', max_length=12, verbose_name='state')),
                ('ubl_xml', models.BinaryField(verbose_name='e-invoice (UBL)')),
                ('ubl_sha256', models.CharField(max_length=64)),
                ('findings', models.JSONField(default=list, verbose_name='validation findings')),
                ('issued_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='issued')),
                ('buyer_account', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='invoices', to='billing.billingaccount', verbose_name='buyer')),
                ('buyer_region', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.region', verbose_name='buyer region')),
                ('credited_invoice', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='credit_notes', to='billing.invoice', verbose_name='credits invoice')),
                ('issued_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='issued by')),
                ('pdf_job', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='protection.documentjob', verbose_name='PDF')),
                ('run', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='invoices', to='billing.billingrun', verbose_name='billing run')),
            ],
            options={
                'verbose_name': 'invoice',
                'verbose_name_plural': 'invoices',
                'ordering': ['series', 'number'],
                'permissions': [('run_billing', "Can run and issue the month's invoicing")],
            },
        ),
        migrations.CreateModel(
            name='InvoiceLine',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('line_no', models.PositiveIntegerField(verbose_name='line')),
                ('text', models.CharField(max_length=200, verbose_name='text')),
                ('description', models.CharField(blank=True, default='', max_length=300, verbose_name='description')),
                ('article_number', models.CharField(blank=True, default='', max_length=32, verbose_name='article number')),
                ('quantity', models.DecimalField(decimal_places=3, max_digits=12, verbose_name='quantity')),
                ('unit_code', models.CharField(choices=[('DAY', 'days'), ('EA', 'pieces'), ('HUR', 'hours')], max_length=3, verbose_name='unit')),
                ('unit_price_sek', models.DecimalField(decimal_places=2, max_digits=12, verbose_name='unit price (SEK)')),
                ('amount_sek', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='amount (SEK)')),
                ('vat_category', models.CharField(choices=[('E', 'exempt from VAT'), ('S', 'standard rate')], default='E', max_length=1, verbose_name='VAT category')),
                ('vat_percent', models.DecimalField(decimal_places=2, default=0, max_digits=5, verbose_name='VAT (%)')),
                ('period_start', models.DateField(blank=True, null=True, verbose_name='from')),
                ('period_end', models.DateField(blank=True, null=True, verbose_name='to')),
                ('order_number', models.CharField(blank=True, default='', max_length=32, verbose_name='order number')),
                ('article', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='prescriptions.article', verbose_name='article')),
                ('invoice', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='lines', to='billing.invoice')),
            ],
            options={
                'verbose_name': 'invoice line',
                'verbose_name_plural': 'invoice lines',
                'ordering': ['invoice', 'line_no'],
            },
        ),
        migrations.CreateModel(
            name='ChargeEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('rent', 'rent'), ('sale', 'sale'), ('sale_with_return', 'sale with right of return'), ('urgent_fee', 'urgent fee'), ('labour', 'labour'), ('parts', 'parts'), ('loss_debit', 'lost device'), ('patient_fee', 'patient fee'), ('correction', 'correction')], max_length=20, verbose_name='kind')),
                ('payer_kind', models.CharField(choices=[('region', 'own region'), ('municipality', 'municipality'), ('home_region', 'home region'), ('unit', 'care unit'), ('patient', 'patient')], max_length=16, verbose_name='payer')),
                ('payer_municipality_code', models.CharField(blank=True, default='', max_length=4, verbose_name='paying municipality')),
                ('month', models.DateField(verbose_name='month')),
                ('period_start', models.DateField(verbose_name='from')),
                ('period_end', models.DateField(verbose_name='to')),
                ('delivered_on', models.DateField(blank=True, null=True, verbose_name='delivered')),
                ('quantity', models.DecimalField(decimal_places=3, max_digits=12, verbose_name='quantity')),
                ('unit_code', models.CharField(choices=[('DAY', 'days'), ('EA', 'pieces'), ('HUR', 'hours')], max_length=3, verbose_name='unit')),
                ('unit_price_sek', models.DecimalField(decimal_places=2, max_digits=12, verbose_name='unit price (SEK)')),
                ('amount_sek', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='amount (SEK)')),
                ('text', models.CharField(max_length=200, verbose_name='text')),
                ('order_number', models.CharField(blank=True, default='', max_length=32, verbose_name='order number')),
                ('idempotency_key', models.CharField(max_length=120, unique=True, verbose_name='key')),
                ('created_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='registered')),
                ('account', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='charges', to='billing.billingaccount', verbose_name='billing account')),
                ('article', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='prescriptions.article', verbose_name='article')),
                ('corrects', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='corrections', to='billing.chargeevent', verbose_name='corrects')),
                ('customer_order', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='logistics.customerorder')),
                ('device', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='logistics.device', verbose_name='device')),
                ('invoice_mark', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='prescriptions.invoicemark')),
                ('loss_case', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='logistics.losscase')),
                ('patient', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.patient', verbose_name='patient')),
                ('payer_region', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='patients.region', verbose_name='paying region')),
                ('payer_unit', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='prescriptions.prescribingunit', verbose_name='paying care unit')),
                ('pickup_line', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='logistics.pickupline')),
                ('urgent_fee', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='logistics.urgentfee')),
                ('work_order', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='logistics.workorder')),
                ('invoice_line', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='charges', to='billing.invoiceline', verbose_name='invoice line')),
            ],
            options={
                'verbose_name': 'charge',
                'verbose_name_plural': 'charges',
                'ordering': ['month', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='InvoiceSeriesCounter',
            fields=[
                ('series', models.CharField(max_length=8, primary_key=True, serialize=False, verbose_name='series')),
                ('next_number', models.PositiveIntegerField(default=1, verbose_name='next number')),
            ],
            options={
                'verbose_name': 'invoice series',
                'verbose_name_plural': 'invoice series',
                'constraints': [models.CheckConstraint(condition=models.Q(('next_number__gte', 1)), name='series_counter_positive')],
            },
        ),
        migrations.CreateModel(
            name='InvoiceTransition',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='when')),
                ('note', models.CharField(blank=True, default='', max_length=300, verbose_name='note')),
                ('from_state', models.CharField(blank=True, choices=[('issued', 'issued, waiting to be sent'), ('sent', 'sent'), ('delivered', 'delivered'), ('rejected', 'rejected by the receiver')], max_length=32, verbose_name='from')),
                ('to_state', models.CharField(choices=[('issued', 'issued, waiting to be sent'), ('sent', 'sent'), ('delivered', 'delivered'), ('rejected', 'rejected by the receiver')], max_length=32, verbose_name='to')),
                ('by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='by')),
                ('invoice', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='transitions', to='billing.invoice')),
            ],
            options={
                'verbose_name': 'invoice transition',
                'verbose_name_plural': 'invoice transitions',
                'ordering': ['at', 'pk'],
                'abstract': False,
            },
        ),
        migrations.CreateModel(
            name='LapsedClaim',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('flagged_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='flagged')),
                ('charge', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='lapsed', to='billing.chargeevent', verbose_name='charge')),
                ('run', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='lapsed', to='billing.billingrun', verbose_name='billing run')),
            ],
            options={
                'verbose_name': 'lapsed claim',
                'verbose_name_plural': 'lapsed claims',
                'ordering': ['-flagged_at'],
            },
        ),
        migrations.CreateModel(
            name='Tariff',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('rent_day', 'rent per device and day'), ('labour_hour', 'labour per hour')], max_length=16, verbose_name='kind')),
                ('price_sek', models.DecimalField(decimal_places=2, max_digits=10, verbose_name='price (SEK)')),
                ('valid_from', models.DateField(verbose_name='valid from')),
                ('valid_until', models.DateField(blank=True, null=True, verbose_name='valid until')),
                ('created_at', models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), verbose_name='registered')),
                ('article', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='prescriptions.article', verbose_name='article')),
                ('product_area', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='prescriptions.productarea', verbose_name='product area')),
            ],
            options={
                'verbose_name': 'tariff',
                'verbose_name_plural': 'tariffs',
                'ordering': ['kind', 'valid_from'],
            },
        ),
        migrations.AddConstraint(
            model_name='billingaccount',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'region'), ('patient__isnull', True), ('region__isnull', False)), models.Q(('kind', 'municipality'), ('municipality_code__regex', '^\\d{4}$'), ('patient__isnull', True)), models.Q(('kind', 'unit'), ('patient__isnull', True), ('unit__isnull', False)), models.Q(('kind', 'patient'), ('patient__isnull', False)), _connector='OR'), name='billing_account_holder_named'),
        ),
        migrations.AddConstraint(
            model_name='billingaccount',
            constraint=models.UniqueConstraint(condition=models.Q(('kind', 'region')), fields=('region',), name='billing_account_one_region'),
        ),
        migrations.AddConstraint(
            model_name='billingaccount',
            constraint=models.UniqueConstraint(condition=models.Q(('kind', 'unit')), fields=('unit',), name='billing_account_one_unit'),
        ),
        migrations.AddConstraint(
            model_name='billingaccount',
            constraint=models.UniqueConstraint(condition=models.Q(('kind', 'patient')), fields=('patient',), name='billing_account_one_patient'),
        ),
        migrations.AddIndex(
            model_name='billingrun',
            index=models.Index(fields=['month', 'region'], name='billing_run_month_idx'),
        ),
        migrations.AddIndex(
            model_name='invoice',
            index=models.Index(fields=['state', 'issued_at'], name='invoice_outbox_idx'),
        ),
        migrations.AddIndex(
            model_name='invoice',
            index=models.Index(fields=['buyer_region', 'issue_date'], name='invoice_region_idx'),
        ),
        migrations.AddConstraint(
            model_name='invoice',
            constraint=models.UniqueConstraint(fields=('series', 'number'), name='invoice_number_per_series'),
        ),
        migrations.AddConstraint(
            model_name='invoice',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('credited_invoice__isnull', True), ('kind', 'invoice')), models.Q(('credited_invoice__isnull', False), ('kind', 'credit_note')), _connector='OR'), name='invoice_credit_note_names_invoice'),
        ),
        migrations.AddConstraint(
            model_name='invoice',
            constraint=models.CheckConstraint(condition=models.Q(('due_date__gte', models.F('issue_date'))), name='invoice_due_after_issue'),
        ),
        migrations.AddConstraint(
            model_name='invoice',
            constraint=models.CheckConstraint(condition=models.Q(('total_payable_sek', django.db.models.expressions.CombinedExpression(models.F('total_net_sek'), '+', models.F('total_vat_sek')))), name='invoice_totals_add_up'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='invoice',
            trigger=pgtrigger.compiler.Trigger(name='invoice_immutable', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD."kind" IS DISTINCT FROM (NEW."kind") OR OLD."series" IS DISTINCT FROM (NEW."series") OR OLD."number" IS DISTINCT FROM (NEW."number") OR OLD."issue_date" IS DISTINCT FROM (NEW."issue_date") OR OLD."due_date" IS DISTINCT FROM (NEW."due_date") OR OLD."buyer_region_id" IS DISTINCT FROM (NEW."buyer_region_id") OR OLD."buyer_account_id" IS DISTINCT FROM (NEW."buyer_account_id") OR OLD."buyer_reference" IS DISTINCT FROM (NEW."buyer_reference") OR OLD."buyer_name" IS DISTINCT FROM (NEW."buyer_name") OR OLD."seller_snapshot" IS DISTINCT FROM (NEW."seller_snapshot") OR OLD."currency" IS DISTINCT FROM (NEW."currency") OR OLD."period_start" IS DISTINCT FROM (NEW."period_start") OR OLD."period_end" IS DISTINCT FROM (NEW."period_end") OR OLD."total_net_sek" IS DISTINCT FROM (NEW."total_net_sek") OR OLD."total_vat_sek" IS DISTINCT FROM (NEW."total_vat_sek") OR OLD."total_payable_sek" IS DISTINCT FROM (NEW."total_payable_sek") OR OLD."credited_invoice_id" IS DISTINCT FROM (NEW."credited_invoice_id") OR OLD."ubl_xml" IS DISTINCT FROM (NEW."ubl_xml") OR OLD."ubl_sha256" IS DISTINCT FROM (NEW."ubl_sha256") OR OLD."findings" IS DISTINCT FROM (NEW."findings") OR OLD."run_id" IS DISTINCT FROM (NEW."run_id") OR OLD."issued_by_id" IS DISTINCT FROM (NEW."issued_by_id") OR OLD."issued_at" IS DISTINCT FROM (NEW."issued_at") OR (OLD."pdf_job_id" IS DISTINCT FROM (NEW."pdf_job_id") AND OLD."pdf_job_id" IS NOT NULL))', func="RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table', TG_TABLE_NAME;", hash='93dcbe72441ea12e0e85d61c1658d0ac57521d69', operation='UPDATE', pgid='pgtrigger_invoice_immutable_05b78', table='billing_invoice', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='invoice',
            trigger=pgtrigger.compiler.Trigger(name='invoice_kept', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot delete rows from % table', TG_TABLE_NAME;", hash='0d115366de296cabdde50a5bdf7f70626911ec50', operation='DELETE', pgid='pgtrigger_invoice_kept_2288a', table='billing_invoice', when='BEFORE')),
        ),
        migrations.AddConstraint(
            model_name='invoiceline',
            constraint=models.UniqueConstraint(fields=('invoice', 'line_no'), name='invoice_line_number'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='invoiceline',
            trigger=pgtrigger.compiler.Trigger(name='invoice_line_immutable', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;", hash='f9d8500189d83751e4903e0fb71ff39bccdd0f61', operation='UPDATE OR DELETE', pgid='pgtrigger_invoice_line_immutable_75b8b', table='billing_invoiceline', when='BEFORE')),
        ),
        migrations.AddIndex(
            model_name='chargeevent',
            index=models.Index(condition=models.Q(('invoice_line__isnull', True)), fields=['payer_region', 'month'], name='charge_uninvoiced_idx'),
        ),
        migrations.AddIndex(
            model_name='chargeevent',
            index=models.Index(fields=['device', 'month'], name='charge_device_month_idx'),
        ),
        migrations.AddIndex(
            model_name='chargeevent',
            index=models.Index(fields=['patient'], name='charge_patient_idx'),
        ),
        migrations.AddIndex(
            model_name='chargeevent',
            index=models.Index(fields=['account'], name='charge_account_idx'),
        ),
        migrations.AddConstraint(
            model_name='chargeevent',
            constraint=models.CheckConstraint(condition=models.Q(('period_end__gte', models.F('period_start'))), name='charge_period_ordered'),
        ),
        migrations.AddConstraint(
            model_name='chargeevent',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('payer_kind__in', ['region', 'home_region']), ('payer_region__isnull', False)), models.Q(('payer_kind', 'unit'), ('payer_unit__isnull', False)), models.Q(('payer_kind', 'municipality'), ('payer_municipality_code__regex', '^\\d{4}$')), models.Q(('patient__isnull', False), ('payer_kind', 'patient')), _connector='OR'), name='charge_payer_named'),
        ),
        migrations.AddConstraint(
            model_name='chargeevent',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('corrects__isnull', False), ('kind', 'correction')), models.Q(models.Q(('kind', 'correction'), _negated=True), ('corrects__isnull', True)), _connector='OR'), name='charge_correction_names_its_event'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='chargeevent',
            trigger=pgtrigger.compiler.Trigger(name='charge_append_only', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD."kind" IS DISTINCT FROM (NEW."kind") OR OLD."payer_kind" IS DISTINCT FROM (NEW."payer_kind") OR OLD."payer_region_id" IS DISTINCT FROM (NEW."payer_region_id") OR OLD."payer_unit_id" IS DISTINCT FROM (NEW."payer_unit_id") OR OLD."payer_municipality_code" IS DISTINCT FROM (NEW."payer_municipality_code") OR OLD."account_id" IS DISTINCT FROM (NEW."account_id") OR OLD."patient_id" IS DISTINCT FROM (NEW."patient_id") OR OLD."month" IS DISTINCT FROM (NEW."month") OR OLD."period_start" IS DISTINCT FROM (NEW."period_start") OR OLD."period_end" IS DISTINCT FROM (NEW."period_end") OR OLD."delivered_on" IS DISTINCT FROM (NEW."delivered_on") OR OLD."quantity" IS DISTINCT FROM (NEW."quantity") OR OLD."unit_code" IS DISTINCT FROM (NEW."unit_code") OR OLD."unit_price_sek" IS DISTINCT FROM (NEW."unit_price_sek") OR OLD."amount_sek" IS DISTINCT FROM (NEW."amount_sek") OR OLD."text" IS DISTINCT FROM (NEW."text") OR OLD."order_number" IS DISTINCT FROM (NEW."order_number") OR OLD."article_id" IS DISTINCT FROM (NEW."article_id") OR OLD."device_id" IS DISTINCT FROM (NEW."device_id") OR OLD."customer_order_id" IS DISTINCT FROM (NEW."customer_order_id") OR OLD."pickup_line_id" IS DISTINCT FROM (NEW."pickup_line_id") OR OLD."loss_case_id" IS DISTINCT FROM (NEW."loss_case_id") OR OLD."work_order_id" IS DISTINCT FROM (NEW."work_order_id") OR OLD."urgent_fee_id" IS DISTINCT FROM (NEW."urgent_fee_id") OR OLD."invoice_mark_id" IS DISTINCT FROM (NEW."invoice_mark_id") OR OLD."corrects_id" IS DISTINCT FROM (NEW."corrects_id") OR OLD."idempotency_key" IS DISTINCT FROM (NEW."idempotency_key") OR OLD."created_at" IS DISTINCT FROM (NEW."created_at") OR (OLD."invoice_line_id" IS DISTINCT FROM (NEW."invoice_line_id") AND OLD."invoice_line_id" IS NOT NULL))', func="RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table', TG_TABLE_NAME;", hash='c70fecc2ec08c9725450587b9d277d2467830f47', operation='UPDATE', pgid='pgtrigger_charge_append_only_f726f', table='billing_chargeevent', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='chargeevent',
            trigger=pgtrigger.compiler.Trigger(name='charge_kept', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot delete rows from % table', TG_TABLE_NAME;", hash='9631c9c5bcb438afc5fc38b89782d1e7884f409f', operation='DELETE', pgid='pgtrigger_charge_kept_f8f68', table='billing_chargeevent', when='BEFORE')),
        ),
        migrations.AddIndex(
            model_name='tariff',
            index=models.Index(fields=['kind', 'valid_from'], name='tariff_kind_from_idx'),
        ),
        migrations.AddConstraint(
            model_name='tariff',
            constraint=models.CheckConstraint(condition=models.Q(('price_sek__gte', 0)), name='tariff_price_not_negative'),
        ),
        migrations.AddConstraint(
            model_name='tariff',
            constraint=models.CheckConstraint(condition=models.Q(('valid_until__isnull', True), ('valid_until__gte', models.F('valid_from')), _connector='OR'), name='tariff_validity_ordered'),
        ),
        migrations.AddConstraint(
            model_name='tariff',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('article__isnull', True), ('kind', 'labour_hour'), ('product_area__isnull', True)), models.Q(('article__isnull', False), ('kind', 'rent_day'), ('product_area__isnull', True)), models.Q(('article__isnull', True), ('kind', 'rent_day'), ('product_area__isnull', False)), _connector='OR'), name='tariff_priced_thing_named'),
        ),
        migrations.RunPython(revoke, grant_back),
    ]
