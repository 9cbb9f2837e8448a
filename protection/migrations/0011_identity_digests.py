"""The row-level security functions find numbers by digest (LEAK-6).

Since patients 0007 the identity and relation numbers are sealed: a keyed digest, then the
encrypted number (``patients.fields.EncryptedNumberField``). Two sealings of one number differ,
their digests do not, so the PROT-5 joins of ``hjm_identity_visible`` and ``hjm_patient_guards``
compare the first 64 characters, which the expression indexes of patients 0007 serve. The
gate's ``hjm_patient_id_for_number`` is now given the digest of the number it looks for
(``protection.rls.PatientIdForNumber`` computes it): the number itself never reaches SQL.
``CREATE OR REPLACE`` keeps each function's owner and grants.
"""

from importlib import import_module

from django.db import migrations

_0004 = import_module("protection.migrations.0004_row_level_security")
_0007 = import_module("protection.migrations.0007_patient_guards_function")

# The PROT-5 guard set of one patient, by digest: the patient if protected, and the protected
# patients its relations name or whose relations name it.
_GUARDS = """
        WITH own AS (
            SELECT left(i.personal_identity_number, 64) AS digest
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
            ON left(i.personal_identity_number, 64) = left(r.related_identity_number, 64)
          JOIN public.patients_patient p ON p.id = i.patient_id AND p.is_protected
         WHERE r.patient_id = patient
        UNION
        SELECT p.id
          FROM own
          JOIN public.patients_patientrelation r
            ON left(r.related_identity_number, 64) = own.digest
          JOIN public.patients_patient p ON p.id = r.patient_id AND p.is_protected
"""

VISIBLE_SQL = f"""
CREATE OR REPLACE FUNCTION hjm_identity_visible(patient bigint) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    previous_context text := current_setting('hjm.context', true);
    asking_user bigint := nullif(current_setting('hjm.user_id', true), '')::bigint;
    -- The gate's clock: Django's Now() is the statement's time, not the transaction's.
    moment timestamptz := statement_timestamp();
    visible boolean;
BEGIN
    PERFORM set_config('hjm.context', 'system', true);
    WITH guards AS ({_GUARDS})
    SELECT NOT EXISTS (
        SELECT 1
          FROM guards g
         WHERE asking_user IS NULL
            OR NOT (
                EXISTS (
                    SELECT 1
                      FROM public.protection_grant gr
                     WHERE gr.user_id = asking_user AND gr.patient_id = g.id
                       AND gr.starts_at <= moment AND moment < gr.ends_at
                       AND gr.ended_at IS NULL
                )
                OR EXISTS (
                    SELECT 1
                      FROM public.protection_emergencyaccess e
                     WHERE e.user_id = asking_user AND e.patient_id = g.id
                       AND e.starts_at <= moment AND moment < e.ends_at
                )
            )
    ) INTO visible;
    PERFORM set_config('hjm.context', coalesce(previous_context, ''), true);
    RETURN visible;
END
$$
"""

PATIENT_ID_SQL = """
CREATE OR REPLACE FUNCTION hjm_patient_id_for_number(
    lookup_number text, is_reserve_number boolean DEFAULT false
)
RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    previous_context text := current_setting('hjm.context', true);
    -- The parameter keeps its old name (a replaced function cannot rename it): the digest.
    lookup_digest text := lookup_number;
    result bigint;
BEGIN
    PERFORM set_config('hjm.context', 'system', true);
    IF is_reserve_number THEN
        SELECT i.patient_id INTO result
          FROM public.patients_patientidentity i
         WHERE left(i.reserve_number, 64) = lookup_digest;
    ELSE
        SELECT i.patient_id INTO result
          FROM public.patients_patientidentity i
         WHERE left(i.personal_identity_number, 64) = lookup_digest;
    END IF;
    PERFORM set_config('hjm.context', coalesce(previous_context, ''), true);
    RETURN result;
END
$$
"""

GUARDS_SQL = f"""
CREATE OR REPLACE FUNCTION hjm_patient_guards(patient bigint) RETURNS SETOF bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    previous_context text := current_setting('hjm.context', true);
BEGIN
    PERFORM set_config('hjm.context', 'system', true);
    RETURN QUERY {_GUARDS};
    PERFORM set_config('hjm.context', coalesce(previous_context, ''), true);
END
$$
"""


def _replacing(sql: str) -> str:
    return sql.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


class Migration(migrations.Migration):
    dependencies = [
        ("protection", "0010_document_job_transition_record"),
        ("patients", "0007_identity_encrypted"),
    ]

    operations = [
        migrations.RunSQL(
            [VISIBLE_SQL, PATIENT_ID_SQL, GUARDS_SQL],
            [
                _replacing(_0004.VISIBLE_SQL),
                _replacing(_0004.PATIENT_ID_SQL),
                _replacing(_0007.GUARDS_SQL),
            ],
        )
    ]
