"""Row-level security on the register's number changes too.

A ``NumberChange`` maps a person's old personnummer to the new one. When a person under threat
is given a new number, that mapping is exactly what must stay hidden, so the table gets the same
policy as the identity and relation tables (0004), keyed by the patient it belongs to.
"""

from django.db import migrations

TABLE = "patients_numberchange"
POLICY = "current_setting('hjm.context', true) = 'system' OR hjm_identity_visible(patient_id)"


class Migration(migrations.Migration):
    dependencies = [("protection", "0004_row_level_security")]

    operations = [
        migrations.RunSQL(
            [
                f"ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY",
                f"ALTER TABLE {TABLE} FORCE ROW LEVEL SECURITY",
                f"CREATE POLICY guarded_by_protection ON {TABLE} "
                f"USING ({POLICY}) WITH CHECK ({POLICY})",
            ],
            reverse_sql=[
                f"DROP POLICY guarded_by_protection ON {TABLE}",
                f"ALTER TABLE {TABLE} NO FORCE ROW LEVEL SECURITY",
                f"ALTER TABLE {TABLE} DISABLE ROW LEVEL SECURITY",
            ],
        )
    ]
