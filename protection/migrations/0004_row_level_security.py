"""Row-level security on the identifying tables (ACCESS-1, PROT-5, LEAK-1), and the privileges
of the application role.

Two roles (docs/operations.md, "Database roles"): the owner role runs the migrations and owns
every table (``manage.py migrate --database owner``); the application role, ``DATABASES
["default"]``, is what the web and the workers connect as. It owns nothing, is no superuser,
has no BYPASSRLS and is not a member of the owner, so the policies below bind it and it cannot
turn them off. FORCE binds the owner too: a raw query as the owner also needs the system
context to see a protected identity. A data migration that must see every row of these tables
therefore starts with ``SELECT set_config('hjm.context', 'system', true)``.

The policy, the same on both tables, keyed by the patient the row belongs to: visible and
writable when the transaction's ``hjm.context`` is ``'system'`` (the Navet import, key rotation,
the import benchmark: ``protection.rls.system_context``), or when every protected patient
guarding that patient is open to the user in ``hjm.user_id`` (set per request by
``protection.middleware``) through a grant in force (started, its end not reached, not ended
early) or an emergency access in force, at the statement's time as the gate reads it. A patient's guards are the patient if protected, and the
protected patients the register links to it in either direction (PROT-5), as the gate counts
them. So a relative's relation row, which carries a protected person's personnummer, is hidden
like the protected person's own rows.

The guards must be found in rows the caller may not see, so ``hjm_identity_visible`` runs as
the owner (SECURITY DEFINER) and reads in the system context, which it sets for its own queries
only and hands back before returning: a function-level ``SET hjm.context`` needs a superuser's
grant for a custom setting. So do the two lookups the gate needs, which return no identifying
data. Each has a fixed ``search_path`` ending in ``pg_temp``, so a temporary table cannot stand
in for a real one, and EXECUTE only for the application role.

The role names are not in the SQL: the owner is the role running this migration and the
application role is the USER of ``DATABASES["default"]``; both are checked first.
"""

from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, migrations

TABLES = ("patients_patientidentity", "patients_patientrelation")

VISIBLE_SQL = """
CREATE FUNCTION hjm_identity_visible(patient bigint) RETURNS boolean
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
    WITH own AS (
        SELECT i.personal_identity_number AS number
          FROM public.patients_patientidentity i
         WHERE i.patient_id = patient AND i.personal_identity_number IS NOT NULL
    ), guards AS (
        SELECT p.id
          FROM public.patients_patient p
         WHERE p.id = patient AND p.is_protected
        UNION
        -- PROT-5: protected patients this patient's register relations name.
        SELECT p.id
          FROM public.patients_patientrelation r
          JOIN public.patients_patientidentity i
            ON i.personal_identity_number = r.related_identity_number
          JOIN public.patients_patient p ON p.id = i.patient_id AND p.is_protected
         WHERE r.patient_id = patient
        UNION
        -- PROT-5: protected patients whose register relations name this patient.
        SELECT p.id
          FROM own
          JOIN public.patients_patientrelation r ON r.related_identity_number = own.number
          JOIN public.patients_patient p ON p.id = r.patient_id AND p.is_protected
    )
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
CREATE FUNCTION hjm_patient_id_for_number(lookup_number text, is_reserve_number boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    previous_context text := current_setting('hjm.context', true);
    result bigint;
BEGIN
    PERFORM set_config('hjm.context', 'system', true);
    IF is_reserve_number THEN
        SELECT i.patient_id INTO result
          FROM public.patients_patientidentity i WHERE i.reserve_number = lookup_number;
    ELSE
        SELECT i.patient_id INTO result
          FROM public.patients_patientidentity i WHERE i.personal_identity_number = lookup_number;
    END IF;
    PERFORM set_config('hjm.context', coalesce(previous_context, ''), true);
    RETURN result;
END
$$
"""

RELATION_KINDS_SQL = """
CREATE FUNCTION hjm_patient_relation_kinds(patient bigint)
RETURNS TABLE (relation_kind text, relations bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    previous_context text := current_setting('hjm.context', true);
BEGIN
    PERFORM set_config('hjm.context', 'system', true);
    RETURN QUERY
        SELECT r.kind::text, count(*)
          FROM public.patients_patientrelation r
         WHERE r.patient_id = patient
         GROUP BY r.kind;
    PERFORM set_config('hjm.context', coalesce(previous_context, ''), true);
END
$$
"""

FUNCTIONS = (
    "hjm_identity_visible(bigint)",
    "hjm_patient_id_for_number(text, boolean)",
    "hjm_patient_relation_kinds(bigint)",
)

POLICY = (
    "current_setting('hjm.context', true) = 'system' OR hjm_identity_visible(patient_id)"
)

RLS_SQL = [
    VISIBLE_SQL,
    PATIENT_ID_SQL,
    RELATION_KINDS_SQL,
    *(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC" for function in FUNCTIONS),
    *(
        statement
        for table in TABLES
        for statement in (
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
            f"CREATE POLICY guarded_by_protection ON {table} "
            f"USING ({POLICY}) WITH CHECK ({POLICY})",
        )
    ),
]

DROP_RLS_SQL = [
    *(
        statement
        for table in TABLES
        for statement in (
            f"DROP POLICY guarded_by_protection ON {table}",
            f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
        )
    ),
    *(f"DROP FUNCTION {function}" for function in FUNCTIONS),
]


def _roles(schema_editor: Any) -> tuple[str, str]:
    """(owner, application role), quoted, after checking that the split is real."""
    app_role = connections[DEFAULT_DB_ALIAS].settings_dict["USER"]
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
        if not app_role:
            raise RuntimeError(
                'DATABASES["default"] names no USER: the application role must be named in '
                "DATABASE_URL so that this migration can grant it its privileges"
            )
        if app_role == owner:
            raise RuntimeError(
                f"this migration runs as {owner!r}, the application role of DATABASE_URL: run "
                "migrations as the owner role (manage.py migrate --database owner, "
                "DATABASE_OWNER_URL); see docs/operations.md, 'Database roles'"
            )
        cursor.execute(
            "SELECT rolsuper, rolbypassrls, pg_has_role(rolname, current_user, 'MEMBER') "
            "FROM pg_roles WHERE rolname = %s",
            [app_role],
        )
        row = cursor.fetchone()
        if row is None:
            raise RuntimeError(f"the application role {app_role!r} does not exist")
        superuser, bypass, member = row
        if superuser or bypass:
            raise RuntimeError(
                f"the application role {app_role!r} is a superuser or has BYPASSRLS: "
                "row-level security would not apply to it"
            )
        if member:
            raise RuntimeError(
                f"the application role {app_role!r} is a member of the owner {owner!r}: it "
                "could take the owner's role and turn row-level security off"
            )
    quote = schema_editor.quote_name
    return quote(owner), quote(app_role)


def grant_app_role(apps: Any, schema_editor: Any) -> None:
    owner, app = _roles(schema_editor)
    statements = [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {app}",
        # Tables and sequences later migrations create get the same.
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {app}",
        # The application may see which migrations are applied (runserver warns of missing
        # ones) but never record one: `migrate` as the application role fails instead of
        # marking migrations applied that it had no right to run.
        f"REVOKE INSERT, UPDATE, DELETE ON django_migrations FROM {app}",
        *(f"GRANT EXECUTE ON FUNCTION {function} TO {app}" for function in FUNCTIONS),
    ]
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def revoke_app_role(apps: Any, schema_editor: Any) -> None:
    owner, app = _roles(schema_editor)
    statements = [
        *(f"REVOKE EXECUTE ON FUNCTION {function} FROM {app}" for function in FUNCTIONS),
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"REVOKE USAGE, SELECT, UPDATE ON SEQUENCES FROM {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {app}",
        f"REVOKE USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public FROM {app}",
        f"REVOKE SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public FROM {app}",
    ]
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ("protection", "0003_write_history"),
    ]

    operations = [
        migrations.RunSQL(RLS_SQL, reverse_sql=DROP_RLS_SQL),
        migrations.RunPython(grant_app_role, revoke_app_role),
    ]
