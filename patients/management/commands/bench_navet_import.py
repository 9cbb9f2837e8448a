"""``manage.py bench_navet_import``: the Navet import at a large region's volume.

Generates a full extract on the fly (never committed; see ``patients.navet.generator`` for why
its numbers cannot belong to a living person), imports it with the real ``import_navet`` command
in a child process into a scratch database, and in the same run loads the resulting rows with
a plain ``COPY`` into tables of the same shape, as the floor to compare against. Peak memory is
the child's maximum resident set, measured at two file sizes to show it does not grow with the
file. Figures go to stdout and, with ``--write``, into docs/performance.md.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from psycopg import sql

from patients.bench import (
    child_env,
    conninfo,
    drop_database,
    migrate_child,
    recreate_database,
    write_section,
)
from patients.navet.generator import write_extract

SECTION = "bench_navet_import"


@dataclass
class Run:
    records: int
    file_mb: float
    generate_s: float
    import_s: float
    peak_rss_mb: float
    summary: dict[str, Any]

    @property
    def per_second(self) -> float:
        return self.records / self.import_s


class Command(BaseCommand):
    help = "Benchmark import_navet with a generated extract (default 1.7 million records)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--records", type=int, default=1_700_000)
        parser.add_argument(
            "--small", type=int, default=170_000, help="second, smaller run for the memory check"
        )
        parser.add_argument("--write", type=Path, help="update this Markdown file's section")
        parser.add_argument("--keep", action="store_true", help="keep the scratch database")

    def handle(self, *args: Any, **options: Any) -> None:
        records: int = options["records"]
        small: int = options["small"]
        if records < 1 or small < 1:
            raise CommandError("--records and --small must be positive")
        base = settings.DATABASES["default"]
        # The owner creates the scratch database and migrates it; the import runs as the
        # application role, as in production.
        owner = settings.DATABASES["owner"]
        scratch = f"{base['NAME']}_bench"
        admin_conninfo = conninfo(owner, dbname="postgres")
        with tempfile.TemporaryDirectory(prefix="navet-bench-") as tmp:
            runs = []
            for count in sorted({small, records}):
                recreate_database(admin_conninfo, scratch)
                env = child_env(base, owner, scratch)
                self.stdout.write(f"migrating scratch database {scratch}")
                migrate_child(env)
                runs.append(self._run(Path(tmp), count, env))
            copy_s = _copy_baseline(conninfo(owner, dbname=scratch), Path(tmp))
            if not options["keep"]:
                connections.close_all()
                drop_database(admin_conninfo, scratch)
        report = _report(runs, copy_s)
        self.stdout.write(report)
        if options["write"]:
            write_section(options["write"], SECTION, report)
            self.stdout.write(f"wrote {options['write']}")

    def _run(self, tmp: Path, count: int, env: dict[str, str]) -> Run:
        path = tmp / f"extract-{count}.xml"
        self.stdout.write(f"generating {count} records")
        started = time.perf_counter()
        write_extract(path, count=count)
        generate_s = time.perf_counter() - started
        self.stdout.write(f"importing {count} records")
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.perf_counter()
        result = subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
            [sys.executable, "manage.py", "import_navet", str(path), "--json"],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        import_s = time.perf_counter() - started
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if result.returncode != 0:
            raise CommandError(
                f"import_navet failed ({result.returncode}): {result.stderr[-2000:]}"
            )
        if peak_kb <= before:
            # ru_maxrss of children is the largest child so far; the runs go smallest first.
            peak_kb = before
        summary = json.loads(result.stdout)
        if summary["created"] != count:
            raise CommandError(f"expected {count} created, got {summary['created']}")
        return Run(
            records=count,
            file_mb=path.stat().st_size / 1e6,
            generate_s=generate_s,
            import_s=import_s,
            peak_rss_mb=peak_kb / 1024,
            summary=summary,
        )


def _copy_baseline(conninfo: str, tmp: Path) -> float:
    """The same rows, loaded by plain COPY into tables of the same shape (with their indexes)."""
    tables = ("patients_patient", "patients_patientidentity", "patients_patientrelation")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        # As the owner, which row-level security binds too: every row, protected ones included.
        conn.execute("SELECT set_config('hjm.context', 'system', false)")
        # The stored columns only: PostgreSQL computes the generated ones (the numbers'
        # digests, patients 0014) on the way in, for the baseline as for the import.
        columns = {
            table: sql.SQL(", ").join(
                sql.Identifier(row[0])
                for row in conn.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND table_name = %s "
                    "AND is_generated = 'NEVER' ORDER BY ordinal_position",
                    [table],
                ).fetchall()
            )
            for table in tables
        }
        for table in tables:
            with (
                (tmp / f"{table}.copy").open("wb") as out,
                conn.cursor().copy(
                    sql.SQL("COPY {} ({}) TO STDOUT").format(sql.Identifier(table), columns[table])
                ) as copy,
            ):
                for chunk in copy:
                    out.write(chunk)
            conn.execute(
                sql.SQL(
                    "CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING GENERATED "
                    "INCLUDING INDEXES)"
                ).format(sql.Identifier(f"bench_{table}"), sql.Identifier(table))
            )
        started = time.perf_counter()
        for table in tables:
            with (
                (tmp / f"{table}.copy").open("rb") as source,
                conn.cursor().copy(
                    sql.SQL("COPY {} ({}) FROM STDIN").format(
                        sql.Identifier(f"bench_{table}"), columns[table]
                    )
                ) as copy,
            ):
                while chunk := source.read(1 << 20):
                    copy.write(chunk)
        return time.perf_counter() - started


def _report(runs: list[Run], copy_s: float) -> str:
    big = runs[-1]
    counts = {k: v for k, v in big.summary.items() if k != "rejections"}
    lines = [
        f"<!-- {SECTION}:start -->",
        "## Navet import (`import_navet`)",
        "",
        f"Measured {date.today().isoformat()} on {platform.machine()}, {os.cpu_count()} cores, "
        f"PostgreSQL and the import on the same machine. Command: "
        f"`make bench-import` (= `python manage.py bench_navet_import --records {big.records} "
        f"--write docs/performance.md`).",
        "",
        "| records | file | generate | import | records/s | peak memory (import process) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        lines.append(
            f"| {run.records:,} | {run.file_mb:,.0f} MB | {run.generate_s:,.1f} s | "
            f"{run.import_s:,.1f} s | {run.per_second:,.0f} | {run.peak_rss_mb:,.0f} MB |"
        )
    lines += [
        "",
        f"Plain `COPY` of the same {big.records:,} patients (patient, identity and relation "
        f"rows, into tables of the same shape with their indexes) in the same run: "
        f"**{copy_s:,.1f} s** ({big.records / copy_s:,.0f} records/s). The import does more "
        "than COPY: it parses and validates XML, checks identity numbers, encrypts addresses, "
        "compares each record with what is stored, and records protection events.",
        "",
        f"Import summary of the large run: `{json.dumps(counts)}`",
        f"<!-- {SECTION}:end -->",
    ]
    return "\n".join(lines)
