"""Plumbing shared by the benchmark commands: a scratch database, a child process pointed at it,
and the Markdown section each benchmark owns in docs/performance.md."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from django.conf import settings
from django.core.management.base import CommandError
from django.db import connections
from django.http import HttpResponseBase
from psycopg import sql

R = TypeVar("R", bound=HttpResponseBase)


def conninfo(db: dict[str, Any], *, dbname: str) -> str:
    parts = {"dbname": dbname, "user": db["USER"], "host": db["HOST"], "port": db["PORT"]}
    if db.get("PASSWORD"):
        parts["password"] = db["PASSWORD"]
    return " ".join(f"{k}='{v}'" for k, v in parts.items() if v)


def recreate_database(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _url(db: dict[str, Any], name: str) -> str:
    host = db["HOST"]
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    if host.startswith("/"):
        port = f":{db['PORT']}" if db["PORT"] else ""
        return f"postgres://{credentials}@{port}/{name}?host={host}"
    return f"postgres://{credentials}@{host}:{db['PORT'] or 5432}/{name}"


def child_env(app: dict[str, Any], owner: dict[str, Any], name: str) -> dict[str, str]:
    """A child process on the scratch database with both roles, as the product runs."""
    env = dict(os.environ)
    env["DATABASE_URL"] = _url(app, name)
    env["DATABASE_OWNER_URL"] = _url(owner, name)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    return env


def migrate_child(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--database", "owner", "--noinput", "-v0"],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
    )


def write_section(path: Path, section: str, report: str) -> None:
    """Replace the section between its markers in a Markdown file, or append it."""
    start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = head + report + tail
    else:
        text = text.rstrip("\n") + "\n\n" + report + "\n"
    path.write_text(text, encoding="utf-8")


@contextmanager
def scratch_database(suffix: str, *, keep: bool) -> Iterator[tuple[dict[str, str], str]]:
    """A scratch database beside the configured one, created and migrated by the owner of the
    tables as in production; yields a child process's environment for it and the owner's
    conninfo. Dropped afterwards unless ``keep``."""
    base, owner = settings.DATABASES["default"], settings.DATABASES["owner"]
    scratch = f"{base['NAME']}_{suffix}"
    admin = conninfo(owner, dbname="postgres")
    recreate_database(admin, scratch)
    env = child_env(base, owner, scratch)
    try:
        migrate_child(env)
        yield env, conninfo(owner, dbname=scratch)
    finally:
        if not keep:
            connections.close_all()
            drop_database(admin, scratch)


def measured_in_child(
    command: str, *, suffix: str, keep: bool, arguments: list[str]
) -> dict[str, Any]:
    """Run ``manage.py <command> --measure <arguments>`` in a scratch database's child process
    (the product's settings, the application's role) and return the JSON figures it prints on
    its last line. The benchmarks that build a large world do so in a child, so that the world
    and its timings never touch the configured database."""
    with scratch_database(suffix, keep=keep) as (env, _owner):
        result = subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
            [sys.executable, "manage.py", command, "--measure", *arguments],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise CommandError(f"measuring failed: {result.stderr[-3000:]}")
        figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def timed(call: Callable[[], R], samples: list[float], *, what: str = "") -> R:
    """One request, its time in milliseconds appended to ``samples``. Anything but a 200 stops
    the benchmark: timing error pages would measure the wrong thing."""
    started = time.perf_counter()
    response = call()
    samples.append((time.perf_counter() - started) * 1000)
    if response.status_code != 200:
        where = f" for {what}" if what else ""
        raise CommandError(f"unexpected status {response.status_code}{where}")
    return response


def percentiles(values: list[float]) -> dict[str, float]:
    """The median, the 95th percentile and the number of samples."""
    return {
        "p50": statistics.median(values),
        "p95": statistics.quantiles(values, n=20)[18],
        "n": len(values),
    }
