"""``hjm_patient_guards``: the gate's guard set in the database, for code that must know it
whoever asks (PROT-5).

The gate counts the patient itself when protected, and the protected patients the register
links to it in either direction (``protection.gate.guarding_patient_ids``). Read through the
application role, the relation rows that carry those links are hidden from a user without a
grant (0004_row_level_security), so a floor above that must treat a relative as protected for
a user who cannot open them (customer service's phone order, the PRESC-2 trigger, a task that
runs as nobody) would find no guard and fail open. This function reads in the system context,
as ``hjm_identity_visible`` does, and returns internal patient ids only, nothing identifying.
It runs as the owner (SECURITY DEFINER), with a fixed ``search_path``; only the application
role may call it.
"""

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, migrations

FUNCTION = "hjm_patient_guards(bigint)"

GUARDS_SQL = """
CREATE FUNCTION hjm_patient_guards(patient bigint) RETURNS SETOF bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    previous_context text := current_setting('hjm.context', true);
BEGIN
    PERFORM set_config('hjm.context', 'system', true);
    RETURN QUERY
        WITH own AS (
            SELECT i.personal_identity_number AS number
              FROM public.patients_patientidentity i
             WHERE i.patient_id = patient AND i.personal_identity_number IS NOT NULL
        )
        SELECT p.id
          FROM public.patients_patient p
         WHERE p.id = patient AND p.is_protected
        UNION
        SELECT p.id
          FROM public.patients_patientrelation r
          JOIN public.patients_patientidentity i
            ON i.personal_identity_number = r.related_identity_number
          JOIN public.patients_patient p ON p.id = i.patient_id AND p.is_protected
         WHERE r.patient_id = patient
        UNION
        SELECT p.id
          FROM own
          JOIN public.patients_patientrelation r ON r.related_identity_number = own.number
          JOIN public.patients_patient p ON p.id = r.patient_id AND p.is_protected;
    PERFORM set_config('hjm.context', coalesce(previous_context, ''), true);
END
$$
"""


def grant(apps: Any, schema_editor: Any) -> None:
    app = schema_editor.quote_name(connections[DEFAULT_DB_ALIAS].settings_dict["USER"])
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"GRANT EXECUTE ON FUNCTION {FUNCTION} TO {app}")


class Migration(migrations.Migration):
    dependencies = [("protection", "0006_documents_and_letters")]

    operations = [
        migrations.RunSQL(
            [GUARDS_SQL, f"REVOKE ALL ON FUNCTION {FUNCTION} FROM PUBLIC"],
            f"DROP FUNCTION {FUNCTION}",
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
