"""BILL-5: a patient invoice already sent by letter before its holder became protected is listed
by hand with its own reason, so that nobody sends it to the person a second time."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0028_withdrawal_patient_invoice'),
    ]

    operations = [
        migrations.AlterField(
            model_name='manualinvoiceitem',
            name='reason',
            field=models.CharField(choices=[('protected_charge', 'patient fee of a protected person'), ('protected_invoice', 'invoice to a protected person'), ('protected_sent', 'patient invoice already sent by letter: book it by hand, do not send it again')], max_length=20, verbose_name='reason'),
        ),
    ]
