"""The row-level security functions compare the numbers' digest columns (issue 16).

Since 0011 the PROT-5 joins and the gate's number lookup compared ``left(<number>, 64)``,
served by expression indexes. But the identity and relation tables force row-level security
on their owner too, so inside these functions (which run as the owner) the planner must check
the policy on every row before any condition that is not leakproof, and ``left()`` is not:
it could not use those indexes. At 1.7 million patients a search by number read the whole
identity table (3.7 s) and every identity read paid about 40 ms for the guard query
(docs/performance.md, "The gate"). Patients 0014 stores the digests as generated columns with
plain indexes; equality of two texts is leakproof, so the indexes find the rows first and the
policy is checked on those alone. The functions are the same but for the columns they compare
(replaced whole, CREATE OR REPLACE keeps owner and grants).
"""

from importlib import import_module

from django.db import migrations

_0011 = import_module("protection.migrations.0011_identity_digests")
_0014 = import_module("protection.migrations.0014_account_changes")

_COLUMNS = {
    "left(i.personal_identity_number, 64)": "i.number_digest",
    "left(i.reserve_number, 64)": "i.reserve_digest",
    "left(r.related_identity_number, 64)": "r.related_digest",
}


def _on_columns(sql: str) -> str:
    for expression, column in _COLUMNS.items():
        sql = sql.replace(expression, column)
    # Every digest comparison moved to a column: none may be left on the expression.
    assert "left(" not in sql, sql
    return sql


VISIBLE_SQL = _on_columns(_0014.VISIBLE_SQL)
PATIENT_ID_SQL = _on_columns(_0011.PATIENT_ID_SQL)
GUARDS_SQL = _on_columns(_0011.GUARDS_SQL)


class Migration(migrations.Migration):
    dependencies = [
        ("protection", "0020_access8_case_closure"),
        ("patients", "0014_number_digest_columns"),
    ]

    operations = [
        migrations.RunSQL(
            [VISIBLE_SQL, PATIENT_ID_SQL, GUARDS_SQL],
            [_0014.VISIBLE_SQL, _0011.PATIENT_ID_SQL, _0011.GUARDS_SQL],
        )
    ]
