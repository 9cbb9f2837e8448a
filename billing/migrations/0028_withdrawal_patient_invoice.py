"""LEAK-4: a patient invoice already sent to finance when its holder became protected is listed
for withdrawal by hand, as an invoice is (a withdrawal names exactly one of the two)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0027_finance_patient_invoices'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='withdrawal',
            name='patient_invoice',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.patientinvoice', verbose_name='patient invoice'),
        ),
        migrations.AlterField(
            model_name='withdrawal',
            name='invoice',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='billing.invoice', verbose_name='invoice'),
        ),
        migrations.AddConstraint(
            model_name='withdrawal',
            constraint=models.UniqueConstraint(fields=('move', 'patient_invoice'), name='withdrawal_patient_invoice_once'),
        ),
        migrations.AddConstraint(
            model_name='withdrawal',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('invoice__isnull', False), ('patient_invoice__isnull', True)), models.Q(('invoice__isnull', True), ('patient_invoice__isnull', False)), _connector='OR'), name='withdrawal_one_document'),
        ),
    ]
