"""PRESC-2 on the supply side in the database, and the floor's history kept append-only.

The CHECK constraint ``log_protected_order_to_unit`` trusts the order's own ``patient_protected``
snapshot. This trigger asks ``hjm_patient_guards`` (protection 0007/0011: the gate's guard set,
the patient if protected and the protected persons the register links them to, PROT-5), so an
order whose snapshot went stale cannot carry a delivery to an address or a pickup point, nor go
to a supplier to deliver (LOG-3): it goes to the prescriber's unit with the prescriber as
contact. It fires on insert and on any write of a column that decides the delivery, or of the
state (a stale order cannot be moved on). The message carries the order number only (LEAK-2).

LEAK-6: the application role can neither change nor remove the history of orders, order lines
and devices (``patients.dbroles``).
"""

from typing import Any

from django.db import migrations

from patients.dbroles import append_only_for_application, writable_for_application

GUARD_SQL = """
CREATE FUNCTION log_order_delivery_guard() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF NEW.patient_id IS NOT NULL
        AND EXISTS (SELECT 1 FROM public.hjm_patient_guards(NEW.patient_id))
        AND NOT (
            NEW.destination_kind = 'unit'
            AND NEW.delivery_unit_id IS NOT DISTINCT FROM NEW.unit_id
            AND NEW.delivery_contact_id IS NOT DISTINCT FROM NEW.orderer_id
            AND NEW.pickup_point_id IS NULL
            AND NOT NEW.supplier_direct
        ) THEN
        RAISE EXCEPTION 'PRESC-2: order % is for a protected patient and must be '
            'delivered to the prescriber''s unit by the region', NEW.number
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION log_order_delivery_guard() FROM PUBLIC;

CREATE TRIGGER log_protected_order_delivery
BEFORE INSERT OR UPDATE OF
    patient_id, unit_id, orderer_id, destination_kind, delivery_unit_id, delivery_contact_id,
    pickup_point_id, supplier_direct, state
ON logistics_customerorder
FOR EACH ROW EXECUTE FUNCTION log_order_delivery_guard();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS log_protected_order_delivery ON logistics_customerorder;
DROP FUNCTION IF EXISTS log_order_delivery_guard();
"""

HISTORY_TABLES = (
    "logistics_customerordertransition",
    "logistics_orderlinetransition",
    "logistics_deviceevent",
)


def revoke(apps: Any, schema_editor: Any) -> None:
    append_only_for_application(schema_editor, HISTORY_TABLES)


def grant_back(apps: Any, schema_editor: Any) -> None:
    writable_for_application(schema_editor, HISTORY_TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("logistics", "0001_initial"),
        ("protection", "0016_admin_log_append_only"),
    ]

    operations = [
        migrations.RunSQL(GUARD_SQL, DROP_SQL),
        migrations.RunPython(revoke, grant_back),
    ]
