"""LEAK-6, house rule 7: issued documents and letters cannot be deleted or rewritten by the
application role, whatever session settings it sets.

Their pgtrigger ``Protect`` triggers refuse a change, but pgtrigger lets any session skip a
trigger it names in the ``pgtrigger.ignore`` setting, which every role may set. So the
application role loses the privileges themselves: no DELETE on either table, and UPDATE only
of a letter's text and a document's content and withdrawal time. Plain triggers, which read no
setting, let those change only as a withdrawal (content to nothing, PRINT-3) or key rotation
(the same text under another key: ``rotate_encryption_key``) changes them.
"""

from typing import Any

from django.db import migrations

from patients.dbroles import application_role

# The one change the encrypted columns may take besides a withdrawal: the same text under
# another key (``rotate_encryption_key``). The database cannot decrypt, so it checks the form:
# a token (``patients.crypto``) under another key id than the one it replaces. Anything else
# is refused. A well-formed token that is not the same text would fail to decrypt: the
# application refuses it rather than show something else.
CONTENT_SQL = """
CREATE FUNCTION protection_document_content_kept() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.content IS NOT NULL AND NEW.content IS DISTINCT FROM OLD.content
       AND (OLD.content IS NULL
            OR NEW.content !~ '^[A-Za-z0-9_-]{1,16}:[A-Za-z0-9_=-]+$'
            OR split_part(NEW.content, ':', 1) = split_part(OLD.content, ':', 1)) THEN
        RAISE EXCEPTION 'an issued document cannot be changed, only withdrawn';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER protection_document_content_kept
BEFORE UPDATE OF content ON protection_document
FOR EACH ROW EXECUTE FUNCTION protection_document_content_kept();

CREATE FUNCTION protection_letter_body_kept() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.body IS DISTINCT FROM OLD.body
       AND (NEW.body IS NULL
            OR NEW.body !~ '^[A-Za-z0-9_-]{1,16}:[A-Za-z0-9_=-]+$'
            OR split_part(NEW.body, ':', 1) = split_part(OLD.body, ':', 1)) THEN
        RAISE EXCEPTION 'an issued letter cannot be changed';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER protection_letter_body_kept
BEFORE UPDATE OF body ON protection_letter
FOR EACH ROW EXECUTE FUNCTION protection_letter_body_kept();
"""

DROP_CONTENT_SQL = """
DROP TRIGGER protection_letter_body_kept ON protection_letter;
DROP FUNCTION protection_letter_body_kept();
DROP TRIGGER protection_document_content_kept ON protection_document;
DROP FUNCTION protection_document_content_kept();
"""


def revoke(apps: Any, schema_editor: Any) -> None:
    app = application_role(schema_editor)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"REVOKE DELETE, UPDATE ON protection_letter FROM {app}")
        cursor.execute(f"REVOKE DELETE, UPDATE ON protection_document FROM {app}")
        cursor.execute(f"GRANT UPDATE (body) ON protection_letter TO {app}")
        cursor.execute(f"GRANT UPDATE (content, withdrawn_at) ON protection_document TO {app}")


def grant_back(apps: Any, schema_editor: Any) -> None:
    app = application_role(schema_editor)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"REVOKE UPDATE (content, withdrawn_at) ON protection_document FROM {app}")
        cursor.execute(f"REVOKE UPDATE (body) ON protection_letter FROM {app}")
        cursor.execute(f"GRANT DELETE, UPDATE ON protection_document TO {app}")
        cursor.execute(f"GRANT DELETE, UPDATE ON protection_letter TO {app}")


class Migration(migrations.Migration):
    dependencies = [("protection", "0014_account_changes")]

    operations = [
        migrations.RunSQL(CONTENT_SQL, DROP_CONTENT_SQL),
        migrations.RunPython(revoke, grant_back),
    ]
