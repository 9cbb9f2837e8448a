"""A package's delivery attempts are history: once recorded, an attempt is neither changed nor
removed (a pgtrigger ``Protect`` trigger, as the account history has). Not by revoked privileges
as 0002 does for tables without encrypted columns: "received by" is encrypted, and the key
rotation (LEAK-3) must re-encrypt it; it lets the model's own triggers through for that UPDATE
only."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("logistics", "0005_device_search"),
    ]

    operations = [
        pgtrigger.migrations.AddTrigger(
            model_name='deliveryattempt',
            trigger=pgtrigger.compiler.Trigger(name='delivery_attempt_append_only', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;", hash='930005683d66e8ca68b16b045e7eeac843229c7f', operation='UPDATE OR DELETE', pgid='pgtrigger_delivery_attempt_append_only_ccb50', table='logistics_deliveryattempt', when='BEFORE')),
        ),
    ]
