"""PRESC-6 as the routine describes it: the prescriber signs the adaptation on its work order,
before delivery, no longer the prescription before approval. The waiting state goes; a
prescription still waiting in it moves on to approved, as a signature would have moved it, with
its history row and the release the logistics floor turns into an order (its sweep finds it).
The device's own signature is then asked for on the adaptation's work order."""

from django.db import migrations, models
from django.db.models.functions import Now


def waiting_move_on(apps, schema_editor):
    Prescription = apps.get_model("prescriptions", "Prescription")
    PrescriptionTransition = apps.get_model("prescriptions", "PrescriptionTransition")
    OrderRelease = apps.get_model("prescriptions", "OrderRelease")
    db = schema_editor.connection.alias
    waiting = list(
        Prescription.objects.using(db)
        .filter(state="awaiting_signature")
        .values_list("pk", flat=True)
    )
    for pk in waiting:
        Prescription.objects.using(db).filter(pk=pk).update(state="approved", decided_at=Now())
        PrescriptionTransition.objects.using(db).create(
            prescription_id=pk,
            from_state="awaiting_signature",
            to_state="approved",
            note="PRESC-6: signed on the adaptation's work order",
        )
        OrderRelease.objects.using(db).get_or_create(prescription_id=pk)


class Migration(migrations.Migration):

    dependencies = [
        ('prescriptions', '0014_consultation_booking'),
    ]

    operations = [
        migrations.RunPython(waiting_move_on, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name='prescription',
            name='risk_assessment_signed_at',
        ),
        migrations.RemoveField(
            model_name='prescription',
            name='risk_assessment_signed_by',
        ),
        migrations.RemoveField(
            model_name='prescription',
            name='signature_reminded_at',
        ),
        migrations.AlterField(
            model_name='eligibilityrecord',
            name='outcome',
            field=models.CharField(choices=[('draft', 'draft'), ('submitted', 'submitted'), ('awaiting_agreement', 'awaiting home-region agreement'), ('awaiting_registration', 'awaiting registration'), ('approved', 'approved'), ('cancelled', 'cancelled')], max_length=32, verbose_name='outcome'),
        ),
        migrations.AlterField(
            model_name='prescription',
            name='state',
            field=models.CharField(choices=[('draft', 'draft'), ('submitted', 'submitted'), ('awaiting_agreement', 'awaiting home-region agreement'), ('awaiting_registration', 'awaiting registration'), ('approved', 'approved'), ('cancelled', 'cancelled')], default='draft', max_length=32, verbose_name='state'),
        ),
        migrations.AlterField(
            model_name='prescriptiontransition',
            name='from_state',
            field=models.CharField(blank=True, choices=[('draft', 'draft'), ('submitted', 'submitted'), ('awaiting_agreement', 'awaiting home-region agreement'), ('awaiting_registration', 'awaiting registration'), ('approved', 'approved'), ('cancelled', 'cancelled')], max_length=32, verbose_name='from'),
        ),
        migrations.AlterField(
            model_name='prescriptiontransition',
            name='to_state',
            field=models.CharField(choices=[('draft', 'draft'), ('submitted', 'submitted'), ('awaiting_agreement', 'awaiting home-region agreement'), ('awaiting_registration', 'awaiting registration'), ('approved', 'approved'), ('cancelled', 'cancelled')], max_length=32, verbose_name='to'),
        ),
    ]
