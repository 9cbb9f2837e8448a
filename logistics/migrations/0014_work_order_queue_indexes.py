"""The technician's queue at recall volume (docs/performance.md, bench_recall): its open
orders counted and ranked per section on (workshop, state, kind, due_on), which replaces
(workshop, state, due_on); the service falling due read on a partial index of the devices that
have a next service date, not the whole register."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('logistics', '0013_notice_device_by_device'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='workorder',
            name='workorder_queue_idx',
        ),
        migrations.AddIndex(
            model_name='device',
            index=models.Index(condition=models.Q(('next_service_on__isnull', False)), fields=['owner_region', 'next_service_on'], name='device_service_due_idx'),
        ),
        migrations.AddIndex(
            model_name='workorder',
            index=models.Index(fields=['workshop', 'state', 'kind', 'due_on'], name='workorder_queue_kind_idx'),
        ),
    ]
