"""Issue 16: a first load into an empty register builds the number indexes after the load.

Inserting 1.7 million random 64-character digests into the number indexes one by one is what
made a first full extract slow once those indexes outgrew the buffer cache: each insert lands
on a random page. Building an index over the loaded rows sorts them once instead. The
application role may not drop or create indexes (it owns no table), so two functions that run
as the owner do it, inside the caller's transaction (DDL in PostgreSQL is transactional):

- ``navet_first_load_begin()`` returns false and changes nothing when the register holds any
  patient. Otherwise it drops the identity's unique number index and the relation's two number
  indexes and returns true. Dropping takes an ACCESS EXCLUSIVE lock on the identity and
  relation tables until the transaction ends: nobody reads or writes identities while the first
  load runs, and the indexes are back before anyone can.
- ``navet_first_load_end()`` runs the foreign-key checks the load left pending (PostgreSQL
  builds no index while they wait for the commit) and builds the indexes again, with the same names and definitions as the
  models declare (tests/patients/test_navet_first_load.py compares them with a migrated
  database's). A number twice among the loaded rows fails the unique build, which the importer
  turns into applying the file the ordinary way.

Neither takes an argument: the application role chooses nothing, not even which index.
"""

from typing import Any

from django.db import migrations

from patients.dbroles import application_role

# What the models declare (PatientIdentity and PatientRelation's Meta), word for word.
INDEXES = (
    "CREATE UNIQUE INDEX identity_number_unique ON public.patients_patientidentity "
    "(left(personal_identity_number, 64))",
    "CREATE UNIQUE INDEX relation_unique ON public.patients_patientrelation "
    "(patient_id, kind, left(related_identity_number, 64))",
    "CREATE INDEX relation_number_idx ON public.patients_patientrelation "
    "(left(related_identity_number, 64))",
)

BEGIN_SQL = """
CREATE FUNCTION navet_first_load_begin() RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    -- Only an empty register: the ordinary import must never lock the tables.
    PERFORM 1 FROM public.patients_patient LIMIT 1;
    IF FOUND THEN
        RETURN false;
    END IF;
    LOCK TABLE public.patients_patientidentity, public.patients_patientrelation
        IN ACCESS EXCLUSIVE MODE;
    -- Checked again under the lock: a patient registered meanwhile makes it an ordinary load.
    PERFORM 1 FROM public.patients_patient LIMIT 1;
    IF FOUND THEN
        RETURN false;
    END IF;
    DROP INDEX public.identity_number_unique;
    DROP INDEX public.relation_unique;
    DROP INDEX public.relation_number_idx;
    RETURN true;
END
$$
"""

_BUILD = ";\n    ".join(INDEXES)

END_SQL = f"""
CREATE FUNCTION navet_first_load_end() RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
SET maintenance_work_mem = '256MB'
AS $$
BEGIN
    -- The loaded rows' foreign keys are checked at commit (Django makes them deferred), and
    -- PostgreSQL builds no index on a table with checks pending: they are run now instead.
    SET CONSTRAINTS ALL IMMEDIATE;
    {_BUILD};
    SET CONSTRAINTS ALL DEFERRED;
END
$$
"""

FUNCTIONS = ("navet_first_load_begin()", "navet_first_load_end()")


def grant(apps: Any, schema_editor: Any) -> None:
    app = application_role(schema_editor)
    with schema_editor.connection.cursor() as cursor:
        for function in FUNCTIONS:
            cursor.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {app}")


class Migration(migrations.Migration):
    dependencies = [("patients", "0010_hand_registration")]

    operations = [
        migrations.RunSQL(
            [
                BEGIN_SQL,
                END_SQL,
                *(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC" for function in FUNCTIONS),
            ],
            [f"DROP FUNCTION {function}" for function in reversed(FUNCTIONS)],
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
