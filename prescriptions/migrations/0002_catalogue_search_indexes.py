"""Catalogue search: pg_trgm and the indexes behind name, article number and ISO code search.

pg_trgm is a trusted extension (PostgreSQL 13 and later): the owner role that runs migrations
may create it without being a superuser, given CREATE on the database, which it has.
"""

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("prescriptions", "0001_catalogue_people_prescriptions"),
    ]

    operations = [
        TrigramExtension(),
        migrations.AddIndex(
            model_name="article",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["name"], name="article_name_trgm", opclasses=["gin_trgm_ops"]
            ),
        ),
        migrations.AddIndex(
            model_name="article",
            index=models.Index(
                fields=["article_number"],
                name="article_number_prefix",
                opclasses=["varchar_pattern_ops"],
            ),
        ),
        migrations.AddIndex(
            model_name="article",
            index=models.Index(
                fields=["iso9999"], name="article_iso9999_prefix", opclasses=["varchar_pattern_ops"]
            ),
        ),
    ]
