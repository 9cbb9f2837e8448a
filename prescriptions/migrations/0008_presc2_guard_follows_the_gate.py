"""PRESC-2 in the database follows the gate's guard (PROT-5) and checks the special agreement.

The trigger's function (0004, renamed in 0006) asked ``patients_patient.is_protected`` only, so
an order for a relative the register links to a protected person (PROT-5) could go to an
address. It now asks ``hjm_patient_guards`` (protection 0007), the gate's guard set read
whoever asks: the application role cannot read the relation rows of a patient it may not open,
so a check in its own rights would pass where it must refuse. The function stays the trigger's
(no ``hjm_`` prefix, no EXECUTE for anyone); the application role owns neither the table nor
the trigger and cannot drop or disable it.

PRESC-2 and LEAK-3: a delivery by special agreement must name an agreement of the same patient that is in
force (not ended); an agreement ended after the draft is refused on the next write of the
delivery or the state, and the services fall back to the unit before that write.
"""

from django.db import migrations

GUARD_SQL = """
CREATE OR REPLACE FUNCTION presc2_delivery_guard() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF NEW.delivery_kind = 'special_agreement' AND NOT EXISTS (
        SELECT 1 FROM public.prescriptions_specialdeliveryagreement a
         WHERE a.id = NEW.special_agreement_id AND a.patient_id = NEW.patient_id
           AND a.ended_at IS NULL
    ) THEN
        RAISE EXCEPTION 'PRESC-2: prescription % names no special delivery agreement in force '
            'for its patient', NEW.reference
            USING ERRCODE = 'check_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM public.hjm_patient_guards(NEW.patient_id)) AND NOT (
        (NEW.delivery_kind = 'unit'
            AND NEW.delivery_unit_id IS NOT DISTINCT FROM NEW.unit_id
            AND NEW.delivery_contact_id IS NOT DISTINCT FROM NEW.prescriber_id)
        OR NEW.delivery_kind = 'special_agreement'
    ) THEN
        RAISE EXCEPTION 'PRESC-2: prescription % is for a protected patient and must be '
            'delivered to the prescriber''s unit', NEW.reference
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
"""

OLD_SQL = """
CREATE OR REPLACE FUNCTION presc2_delivery_guard() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM public.patients_patient p WHERE p.id = NEW.patient_id AND p.is_protected
    ) AND NOT (
        (NEW.delivery_kind = 'unit'
            AND NEW.delivery_unit_id IS NOT DISTINCT FROM NEW.unit_id
            AND NEW.delivery_contact_id IS NOT DISTINCT FROM NEW.prescriber_id)
        OR (NEW.delivery_kind = 'special_agreement' AND NEW.special_agreement_id IS NOT NULL)
    ) THEN
        RAISE EXCEPTION 'PRESC-2: prescription % is for a protected patient and must be '
            'delivered to the prescriber''s unit', NEW.reference
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("prescriptions", "0007_residence_certificate_validity"),
        ("protection", "0007_patient_guards_function"),
    ]

    operations = [migrations.RunSQL(GUARD_SQL, OLD_SQL)]
