"""AUDIT-2, LEAK-6: only the sealer writes the access log's chain.

Before this, the application role held UPDATE on ``patients_accessentry``: the trigger of 0004
let it seal an unsealed entry, once, with any values it chose, which broke the chain for good.
Now sealing is ``audit_access_entries_seal(batch_size)``, a function that runs as the owner
(SECURITY DEFINER, fixed ``search_path`` ending in ``pg_temp``, EXECUTE for the application role
only) and computes every hash itself; the application role asks for sealing and chooses
nothing. Its UPDATE and DELETE on the table are revoked by protection 0013_audit_append_only,
after protection 0004 granted them (with those of this app's pghistory event tables). The
trigger of 0004 stays: it binds the owner too, and the function's update is the one change it
lets through.

The hash is the one ``patients.audit.entry_hash_compute`` computes and the verifier checks:
``sha256(prev_hash || canonical form)``, the canonical form being the entry's recorded columns
as compact JSON with sorted keys and ASCII escapes, byte for byte what Python's
``json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=True)`` writes.
``audit_json_string`` writes one JSON string that way (non-ASCII as ``\\uXXXX``, beyond the basic
plane as a surrogate pair, DEL escaped too); tests/patients/test_audit_chain_sealer.py seals
awkward values and has the Python verifier check them.
"""

from typing import Any

from django.db import migrations

from patients.dbroles import application_role

# The key of the transaction-scoped advisory lock sealers take turns on (the one the sealer in
# patients.audit took before this function did the work).
SEAL_LOCK_KEY = int.from_bytes(b"AUDIT-2", "big")

JSON_STRING_SQL = r"""
CREATE FUNCTION audit_json_string(value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    written text := '';
    ch text;
    code integer;
BEGIN
    IF value !~ '[^ -~]' AND strpos(value, '"') = 0 AND strpos(value, '\') = 0 THEN
        RETURN '"' || value || '"';
    END IF;
    FOREACH ch IN ARRAY regexp_split_to_array(value, '') LOOP
        code := ascii(ch);
        written := written || CASE
            WHEN ch = '"' THEN '\"'
            WHEN ch = '\' THEN '\\'
            WHEN code = 8 THEN '\b'
            WHEN code = 9 THEN '\t'
            WHEN code = 10 THEN '\n'
            WHEN code = 12 THEN '\f'
            WHEN code = 13 THEN '\r'
            WHEN code BETWEEN 32 AND 126 THEN ch
            WHEN code < 65536 THEN '\u' || lpad(to_hex(code), 4, '0')
            ELSE '\u' || to_hex(55296 + ((code - 65536) >> 10))
                || '\u' || to_hex(56320 + ((code - 65536) & 1023))
        END;
    END LOOP;
    RETURN '"' || written || '"';
END
$$
"""

SEAL_SQL = f"""
CREATE FUNCTION audit_access_entries_seal(batch_size integer) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    head_seq bigint;
    head_hash text;
    entry record;
    canonical text;
    next_hash text;
    sealed integer := 0;
BEGIN
    IF batch_size IS NULL OR batch_size < 1 THEN
        RAISE EXCEPTION 'batch_size must be at least 1';
    END IF;
    PERFORM pg_advisory_xact_lock({SEAL_LOCK_KEY});
    -- Read only once the lock is held: under READ COMMITTED this sees the previous sealer's
    -- commit. The unique chain_seq turns a stale read into an error, never a fork.
    SELECT a.chain_seq, a.entry_hash INTO head_seq, head_hash
      FROM public.patients_accessentry a
     WHERE a.chain_seq IS NOT NULL
     ORDER BY a.chain_seq DESC
     LIMIT 1;
    IF NOT FOUND THEN
        head_seq := 0;
        head_hash := repeat('0', 64);
    END IF;
    FOR entry IN
        SELECT a.id, a.at, a.user_id, a.unit_id, a.action, a.object_type, a.object_id,
               a.patient_id, a.patient_protected, a.outcome, a.ip_address, a.session_ref
          FROM public.patients_accessentry a
         WHERE a.chain_seq IS NULL
         ORDER BY a.id
         LIMIT batch_size
    LOOP
        -- patients.audit.entry_canonical: the keys in sorted order.
        canonical := '{{"action":' || public.audit_json_string(entry.action)
            || ',"at":' || public.audit_json_string(
                to_char(entry.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
            || ',"id":' || entry.id
            || ',"ip_address":' || CASE WHEN entry.ip_address IS NULL THEN 'null'
                ELSE public.audit_json_string(format('%s', entry.ip_address)) END
            || ',"object_id":' || public.audit_json_string(entry.object_id)
            || ',"object_type":' || public.audit_json_string(entry.object_type)
            || ',"outcome":' || public.audit_json_string(entry.outcome)
            || ',"patient_id":' || coalesce(entry.patient_id::text, 'null')
            || ',"patient_protected":' || CASE WHEN entry.patient_protected THEN 'true'
                ELSE 'false' END
            || ',"session_ref":' || public.audit_json_string(entry.session_ref)
            || ',"unit_id":' || coalesce(entry.unit_id::text, 'null')
            || ',"user_id":' || coalesce(entry.user_id::text, 'null')
            || '}}';
        next_hash := encode(sha256(convert_to(head_hash || canonical, 'UTF8')), 'hex');
        head_seq := head_seq + 1;
        UPDATE public.patients_accessentry
           SET chain_seq = head_seq, prev_hash = head_hash, entry_hash = next_hash,
               sealed_at = now()
         WHERE id = entry.id AND chain_seq IS NULL;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'access entry % was sealed by another sealer meanwhile; nothing was '
                'sealed by this run, run it again', entry.id;
        END IF;
        head_hash := next_hash;
        sealed := sealed + 1;
    END LOOP;
    RETURN sealed;
END
$$
"""

FUNCTIONS = ("audit_json_string(text)", "audit_access_entries_seal(integer)")


def grant(apps: Any, schema_editor: Any) -> None:
    app = application_role(schema_editor)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"GRANT EXECUTE ON FUNCTION audit_access_entries_seal(integer) TO {app}")


class Migration(migrations.Migration):
    dependencies = [("patients", "0007_identity_encrypted")]

    operations = [
        migrations.RunSQL(
            [
                JSON_STRING_SQL,
                SEAL_SQL,
                *(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC" for function in FUNCTIONS),
            ],
            [f"DROP FUNCTION {function}" for function in reversed(FUNCTIONS)],
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
