"""``manage.py bench_gate``: what the gate costs at a large region's volume.

In a scratch database: a generated register of 1.7 million patients imported with the real
``import_navet`` (about 1 in 500 protected: 3 400), 100 000 grants on the protected patients
spread over 10 007 users, then, in a child process running the product's settings, timed
requests through Django's full middleware stack: patient search, the patient page of an
ordinary patient, the page of a protected patient opened with a grant after step-up, and a bare
one-query view as the floor. Figures (p50 and p95 per kind) go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone
from guardian.shortcuts import assign_perm

from patients.bench import percentiles, scratch_database, timed, write_section
from patients.models import Patient, PatientIdentity, StaffProfile, Unit
from patients.navet.generator import write_extract
from patients.services import roles_sync
from protection.gate import PROTECTED_PERMISSION, STEP_UP_SESSION_KEY
from protection.models import AccountSuspension, Grant

SECTION = "bench_gate"
# The product's backend (patients.auth), and Django's own for the comparison in the same run.
BACKENDS = {
    "patients.auth.StaffModelBackend": "",
    "django.contrib.auth.backends.ModelBackend": "_django",
}
GUARDIAN_BACKEND = "guardian.backends.ObjectPermissionBackend"
KINDS = ("bare", "search", "page", "protected", "search_django", "page_django", "protected_django")
USERS = 10_007  # prime: (k mod USERS, k mod protected) pairs stay distinct for 100 000 grants


class Command(BaseCommand):
    help = "Benchmark the gate: search and patient page against a bare one-query view."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, default=1_700_000)
        parser.add_argument("--grants", type=int, default=100_000)
        parser.add_argument("--requests", type=int, default=400, help="timed requests per kind")
        parser.add_argument("--write", type=Path, help="update this Markdown file's section")
        parser.add_argument("--keep", action="store_true", help="keep the scratch database")
        # Internal: the child process that runs the timed requests.
        parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["measure"]:
            self.stdout.write(json.dumps(_measure(options["requests"])))
            return
        with scratch_database("gatebench", keep=options["keep"]) as (env, owner_dsn):
            with tempfile.TemporaryDirectory(prefix="gate-bench-") as tmp:
                extract = Path(tmp) / "extract.xml"
                self.stdout.write(f"generating and importing {options['patients']} patients")
                write_extract(extract, count=options["patients"])
                _run_child(env, ["import_navet", str(extract), "--json"])
            self.stdout.write(f"adding {options['grants']} grants")
            protected = _add_grants(owner_dsn, options["grants"])
            self.stdout.write("measuring")
            figures = json.loads(
                _run_child(env, ["bench_gate", "--measure", "--requests", str(options["requests"])])
            )
        report = _report(figures, options["patients"], protected, options["grants"])
        self.stdout.write(report)
        if options["write"]:
            write_section(options["write"], SECTION, report)


def _run_child(env: dict[str, str], args: list[str]) -> str:
    result = subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise CommandError(f"{args[0]} failed: {result.stderr[-3000:]}")
    return result.stdout.strip().splitlines()[-1]


def _add_grants(dsn: str, count: int) -> int:
    """Grants in force, mirrored as guardian object permissions, as decided requests leave them."""
    with psycopg.connect(dsn, autocommit=False) as conn:
        # System context: the population runs outside any user's view (row-level security).
        conn.execute("SELECT set_config('hjm.context', 'system', false)")
        conn.execute(
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, "
            "email, is_staff, is_active, date_joined) "
            "SELECT '!', false, 'bench' || g, '', '', '', false, true, now() "
            "FROM generate_series(0, %s) g",
            [USERS - 1],
        )
        protected = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM patients_patient WHERE is_protected ORDER BY id"
            ).fetchall()
        ]
        users = [row[0] for row in conn.execute("SELECT id FROM auth_user ORDER BY id").fetchall()]
        permission = conn.execute(
            "SELECT id FROM auth_permission WHERE codename = 'view_protected_identity'"
        ).fetchone()
        if not protected or permission is None:
            raise CommandError("no protected patients or no view_protected_identity permission")
        pairs = [(users[k % len(users)], protected[k % len(protected)]) for k in range(count)]
        with (
            conn.cursor() as cursor,
            cursor.copy(
                "COPY protection_grant (user_id, patient_id, starts_at, ends_at, created_at, "
                "end_reason) FROM STDIN"
            ) as copy,
        ):
            for user_id, patient_id in pairs:
                copy.write_row((user_id, patient_id, "2026-01-01", "2099-01-01", "2026-01-01", ""))
        with (
            conn.cursor() as cursor,
            cursor.copy(
                "COPY protection_patientuserobjectpermission (user_id, permission_id, "
                "content_object_id) FROM STDIN"
            ) as copy,
        ):
            for user_id, patient_id in pairs:
                copy.write_row((user_id, permission[0], patient_id))
        conn.execute("ANALYZE")
        conn.commit()
    return len(protected)


def _measure(requests: int) -> dict[str, dict[str, float]]:
    """Runs in the child, against the scratch database, with the product's middleware."""

    rng = random.Random(7)
    with connection.cursor() as cursor:
        # Ordinary patients as nobody in particular sees them: row-level security leaves out the
        # protected and those linked to a protected person (PROT-5), whose page is masked. A 2 %
        # block sample first, so the policy is not evaluated for all 1.7 million rows.
        cursor.execute("SELECT set_config('hjm.context', '', false)")
        cursor.execute(
            "SELECT p.reference, i.personal_identity_number "
            "FROM patients_patientidentity i TABLESAMPLE SYSTEM (2) "
            "JOIN patients_patient p ON p.id = i.patient_id "
            "WHERE p.status = 'active' ORDER BY random() LIMIT %s",
            [requests],
        )
        # Numbers are sealed (LEAK-6): the field opens them, as a read through the model would.
        number_field = PatientIdentity._meta.get_field("personal_identity_number")
        ordinary = [
            (reference, number_field.from_db_value(number, None, connection))
            for reference, number in cursor.fetchall()
        ]
        cursor.execute("SELECT set_config('hjm.context', 'system', false)")
        cursor.execute("SELECT id, reference FROM patients_patient WHERE is_protected LIMIT 20")
        protected = cursor.fetchall()
        cursor.execute("SELECT set_config('hjm.context', '', false)")
    if len(ordinary) < requests:
        raise CommandError(f"only {len(ordinary)} visible ordinary patients sampled")
    roles_sync()
    # Again on a kept database (``--keep``, then ``--measure`` in a child pointed at it).
    user, created = get_user_model().objects.get_or_create(username="bench-prescriber")
    if created:  # force_login: no password
        # An account in everyday use, as the tests' factory makes it: the suspension its
        # creation opened (ACCESS-10, a password set by someone else) was confirmed and lifted
        # long ago; a suspended prescriber would see every protected patient masked.
        AccountSuspension.objects.filter(user=user).delete()
        user.groups.add(Group.objects.get(name="prescriber"))
        unit = Unit.objects.create(name="Benchmark unit", hsa_id="SE-BENCH-1", region_id="12")
        StaffProfile.objects.create(user=user, unit=unit)
        now = timezone.now()
        for patient_id, _ in protected:
            Grant.objects.create(
                user=user,
                patient_id=patient_id,
                starts_at=now - timedelta(days=1),
                ends_at=now + timedelta(days=30),
            )
            assign_perm(PROTECTED_PERMISSION, user, Patient.objects.get(pk=patient_id))
    samples: dict[str, list[float]] = {kind: [] for kind in KINDS}
    # The step-up stays valid for the whole run; each request still checks it.
    with override_settings(
        ROOT_URLCONF="protection.bench",
        ALLOWED_HOSTS=["testserver"],
        PROTECTION_STEP_UP_SECONDS=24 * 60 * 60,
    ):
        clients = {backend: _logged_in(user, backend) for backend in BACKENDS}
        warm: list[float] = []
        for backend, client in clients.items():
            with override_settings(AUTHENTICATION_BACKENDS=[backend, GUARDIAN_BACKEND]):
                for reference, number in ordinary[:20]:
                    timed(partial(client.get, f"/bench/bare/{reference}/"), warm)
                    timed(partial(client.post, "/", {"number": number}), warm)
        for reference, number in ordinary:
            _, protected_reference = rng.choice(protected)
            # Django's own ModelBackend and the product's (patients.auth) alternated, so that
            # what reading the user's unit and permissions in fewer round trips saves is
            # measured in the same run (issue 16).
            for backend, suffix in BACKENDS.items():
                client = clients[backend]
                with override_settings(AUTHENTICATION_BACKENDS=[backend, GUARDIAN_BACKEND]):
                    if not suffix:
                        timed(partial(client.get, f"/bench/bare/{reference}/"), samples["bare"])
                    timed(partial(client.post, "/", {"number": number}), samples["search" + suffix])
                    timed(partial(client.get, f"/patients/{reference}/"), samples["page" + suffix])
                    response = timed(
                        partial(client.get, f"/patients/{protected_reference}/"),
                        samples["protected" + suffix],
                    )
                if b"patient-card masked" in response.content:
                    raise CommandError("the grant holder got the masked card: benchmark is wrong")
    return {kind: percentiles(values) for kind, values in samples.items()}


def _logged_in(user: Any, backend: str) -> Client:
    """A client whose session names ``backend``, stepped up for the whole run."""
    client = Client()
    client.force_login(user, backend=backend)
    session = client.session
    session[STEP_UP_SESSION_KEY] = time.time()
    session.save()
    return client


def _report(
    figures: dict[str, dict[str, float]], patients: int, protected: int, grants: int
) -> str:
    bare = figures["bare"]
    rows = [
        ("Bare one-query view (floor)", "bare"),
        ("Patient search (POST, ordinary patient)", "search"),
        ("Patient page, ordinary patient", "page"),
        ("Patient page, protected patient with grant and step-up", "protected"),
        ("Patient search, with Django's ModelBackend (before issue 16)", "search_django"),
        ("Patient page, ordinary, with Django's ModelBackend", "page_django"),
        ("Patient page, protected, with Django's ModelBackend", "protected_django"),
    ]
    lines = [
        f"<!-- {SECTION}:start -->",
        "## The gate (`protection.gate`)",
        "",
        f"Measured {date.today().isoformat()} on {platform.machine()}, {os.cpu_count()} cores, "
        f"PostgreSQL on the same machine, {patients:,} patients ({protected:,} protected), "
        f"{grants:,} grants. Each request goes through the full middleware stack with "
        "Django's test client, logged in, and writes its access entry; the product's "
        "authentication backend (`patients.auth`: user with unit, one permission query) and "
        "Django's ModelBackend alternated request by request. Command: "
        "`make bench-gate` (= `python manage.py bench_gate --write docs/performance.md`).",
        "",
        "| request | p50 | p95 | p50 / bare | p95 / bare |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, kind in rows:
        f = figures[kind]
        lines.append(
            f"| {label} | {f['p50']:.2f} ms | {f['p95']:.2f} ms | "
            f"{f['p50'] / bare['p50']:.2f} | {f['p95'] / bare['p95']:.2f} |"
        )
    lines += ["", f"{int(bare['n'])} timed requests of each kind.", f"<!-- {SECTION}:end -->"]
    return "\n".join(lines)
