"""The PRESC-2 trigger's function loses the ``hjm_`` prefix: that prefix names the
row-level-security functions the application role may call (protection 0004), which
tests/protection/test_rls.py enumerates. The trigger function is called by the trigger only."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("prescriptions", "0005_article_search_permission")]

    operations = [
        migrations.RunSQL(
            "ALTER FUNCTION hjm_presc2_delivery_guard() RENAME TO presc2_delivery_guard;"
            "REVOKE ALL ON FUNCTION presc2_delivery_guard() FROM PUBLIC;",
            "ALTER FUNCTION presc2_delivery_guard() RENAME TO hjm_presc2_delivery_guard;",
        )
    ]
