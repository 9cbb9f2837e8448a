"""LEAK-6, AUDIT-2, ACCESS-7: the protection history, the emergency accesses and the history
contexts cannot be emptied or rewritten by the application role.

pghistory's append-only triggers (``pgtrigger.Protect``) skip themselves for any session that
names them in the ``pgtrigger.ignore`` setting, which every role may set. So the application
role loses UPDATE and DELETE on the tables it only ever appends to: the pghistory event tables
and state-transition tables of this app and of patients, and the access log, which only the
sealer changes (patients 0008_audit_append_only) (``patients.dbroles``).

Emergency accesses (ACCESS-7) wait in the review queue until reviewed: the application role
may not delete one, and may update only the three review columns, which a trigger lets change
once, from not reviewed to reviewed, with nothing else changed.

``pghistory_context`` holds who made a change and from which page. pghistory upserts the row of
the current context on every tracked write (``_pgh_attach_context``: INSERT ... ON CONFLICT DO
UPDATE SET metadata, updated_at), so the application role keeps UPDATE on those two columns.
The trigger below lets a context's metadata change only in the transaction that inserted the
row (``created_at`` is that transaction's start, set by the trigger, not by the caller), so a
past context cannot be rewritten, directly or by reusing its id in ``pghistory.context_id``.
What pghistory needs still works: a context gains keys during its transaction, and a later
transaction of the same request writes events under it as long as its metadata is unchanged.
None of these triggers reads a setting a session could set.
"""

from typing import Any

from django.db import migrations

from patients.dbroles import append_only_for_application, application_role, writable_for_application

# With the patients app's: 0004_row_level_security, which granted everything, runs after them.
HISTORY_TABLES = (
    "patients_accessentry",
    "patients_unitevent",
    "patients_staffprofileevent",
    "patients_patientevent",
    "patients_patientidentityevent",
    "protection_grantrequestevent",
    "protection_grantevent",
    "protection_emergencyaccessevent",
    "protection_localprotectionevent",
    "protection_reservenumberprotectionevent",
    "protection_protectionreviewevent",
    "protection_grantrequesttransition",
    "protection_documentjobtransition",
)
REVIEW_COLUMNS = ("reviewed_by_id", "reviewed_at", "review_note")
CONTEXT_COLUMNS = ("metadata", "updated_at")

TRIGGERS_SQL = [
    """
CREATE FUNCTION protection_emergencyaccess_reviewed_once() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    review_columns CONSTANT text[] := ARRAY['reviewed_by_id', 'reviewed_at', 'review_note'];
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'emergency access % cannot be deleted: it stays for the review (ACCESS-7)',
            OLD.id;
    END IF;
    IF OLD.reviewed_at IS NULL AND NEW.reviewed_at IS NOT NULL AND NEW.reviewed_by_id IS NOT NULL
            AND to_jsonb(NEW) - review_columns = to_jsonb(OLD) - review_columns THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'emergency access % can only be reviewed once; nothing else of it changes '
        '(ACCESS-7)', OLD.id;
END
$$
""",
    """
CREATE TRIGGER emergencyaccess_reviewed_once
    BEFORE UPDATE OR DELETE ON protection_emergencyaccess
    FOR EACH ROW EXECUTE FUNCTION protection_emergencyaccess_reviewed_once()
""",
    """
CREATE FUNCTION audit_history_context_kept() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.created_at := now();
        NEW.updated_at := now();
        RETURN NEW;
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.created_at IS DISTINCT FROM OLD.created_at
            OR (OLD.created_at IS DISTINCT FROM now()
                AND NEW.metadata IS DISTINCT FROM OLD.metadata) THEN
        RAISE EXCEPTION 'history context % was recorded by an earlier transaction and cannot be '
            'rewritten (LEAK-6)', OLD.id;
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END
$$
""",
    """
CREATE TRIGGER history_context_kept
    BEFORE INSERT OR UPDATE ON pghistory_context
    FOR EACH ROW EXECUTE FUNCTION audit_history_context_kept()
""",
]

DROP_TRIGGERS_SQL = [
    "DROP TRIGGER history_context_kept ON pghistory_context",
    "DROP FUNCTION audit_history_context_kept()",
    "DROP TRIGGER emergencyaccess_reviewed_once ON protection_emergencyaccess",
    "DROP FUNCTION protection_emergencyaccess_reviewed_once()",
]


def revoke(apps: Any, schema_editor: Any) -> None:
    append_only_for_application(
        schema_editor, [*HISTORY_TABLES, "protection_emergencyaccess", "pghistory_context"]
    )
    app = application_role(schema_editor)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"GRANT UPDATE ({', '.join(REVIEW_COLUMNS)}) ON protection_emergencyaccess TO {app}"
        )
        cursor.execute(f"GRANT UPDATE ({', '.join(CONTEXT_COLUMNS)}) ON pghistory_context TO {app}")


def grant_back(apps: Any, schema_editor: Any) -> None:
    app = application_role(schema_editor)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"REVOKE UPDATE ({', '.join(REVIEW_COLUMNS)}) ON protection_emergencyaccess FROM {app}"
        )
        cursor.execute(
            f"REVOKE UPDATE ({', '.join(CONTEXT_COLUMNS)}) ON pghistory_context FROM {app}"
        )
    writable_for_application(
        schema_editor, [*HISTORY_TABLES, "protection_emergencyaccess", "pghistory_context"]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("protection", "0012_documents_encrypted"),
        ("patients", "0008_audit_append_only"),
        ("pghistory", "0007_auto_20250421_0444"),
    ]

    operations = [
        migrations.RunSQL(TRIGGERS_SQL, DROP_TRIGGERS_SQL),
        migrations.RunPython(revoke, grant_back),
    ]
