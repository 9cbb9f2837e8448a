"""Catalogue name search: a GiST trigram index on the name in place of the GIN one.

GIN answers "which names are similar" but PostgreSQL must then score and sort every similar name
(thousands for a common word), and with 50 000 articles the planner preferred scoring all of
them in a sequential scan. GiST also returns names nearest first (``<->>``), so a search reads
only the 50 it shows (docs/performance.md). Raising the cost of pg_trgm's operator functions
instead is not open to us: a trusted extension's functions belong to the bootstrap superuser,
not to the owner role that created the extension.
"""

import django.contrib.postgres.indexes
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('prescriptions', '0008_presc2_guard_follows_the_gate'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='article',
            name='article_name_trgm',
        ),
        migrations.AddIndex(
            model_name='article',
            index=django.contrib.postgres.indexes.GistIndex(fields=['name'], name='article_name_trgm_gist', opclasses=['gist_trgm_ops']),
        ),
    ]
