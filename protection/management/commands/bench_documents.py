"""``manage.py bench_documents``: how fast one worker makes documents, against bare WeasyPrint.

In a scratch database: ordinary patients and a prescriber; one-page letters (one job each) and
20-page patient summaries (one page per patient: a pick-list-sized document) are asked for
through ``document_request``; then one real Celery worker (solo pool, one process) on a queue of
its own renders them all. Throughput per kind is taken from the database: from the first claim
to the last stored document of that kind, so the worker's start-up is not counted. In the same
run the same HTML is rendered by bare WeasyPrint in one process (no database, broker, claim or
storage), the floor the pipeline is compared with. Needs ``REDIS_URL``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Max, Min
from weasyprint import HTML

from patients.bench import scratch_database, write_section
from patients.models import Patient, PatientIdentity, StaffProfile, Unit
from patients.services import Actor, roles_sync
from protection.documents import letters, rendering, services
from protection.documents.services.worker import document_job_html
from protection.documents.summary import SUMMARY_KIND
from protection.gate import AccessContext
from protection.models import DocumentJob, DocumentJobTransition
from protection.rls import system_context

SECTION = "bench_documents"
LIST_PAGES = 20


class Command(BaseCommand):
    help = "Benchmark document rendering by one worker against bare WeasyPrint."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--letters", type=int, default=200)
        parser.add_argument("--lists", type=int, default=20, help="20-page documents")
        parser.add_argument("--write", type=Path, help="update this Markdown file's section")
        parser.add_argument("--keep", action="store_true", help="keep the scratch database")
        parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if not os.environ.get("REDIS_URL"):
            raise CommandError("REDIS_URL must name a Redis: the benchmark runs a real worker")
        if options["measure"]:
            self.stdout.write(json.dumps(_measure(options["letters"], options["lists"])))
            return
        with scratch_database("docbench", keep=options["keep"]) as (env, _owner_dsn):
            self.stdout.write("measuring")
            result = subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
                [
                    *(sys.executable, "manage.py", "bench_documents", "--measure"),
                    *("--letters", str(options["letters"]), "--lists", str(options["lists"])),
                ],
                cwd=settings.BASE_DIR,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise CommandError(f"measuring failed: {result.stderr[-3000:]}")
            figures = json.loads(result.stdout.strip().splitlines()[-1])
        report = _report(figures)
        self.stdout.write(report)
        if options["write"]:
            write_section(options["write"], SECTION, report)


def _numbers(count: int) -> list[str]:
    """Skatteverket's test personnummer (IDENT-4), from ../shared beside the project."""
    path = Path(settings.BASE_DIR).parent / "shared" / "data" / "testpersonnummer.txt"
    numbers = path.read_text(encoding="utf-8").split()
    if len(numbers) < count:
        raise CommandError(f"{path} has {len(numbers)} numbers; {count} needed")
    return numbers[:count]


def _seed(count: int) -> tuple[AccessContext, list[Patient]]:
    roles_sync()
    unit = Unit.objects.create(name="Benchmarkenheten", hsa_id="SE-BENCH-1", region_id="12")
    user = get_user_model().objects.create(username="bench-prescriber", is_active=True)
    user.groups.add(Group.objects.get(name="prescriber"))
    StaffProfile.objects.create(user=user, unit=unit, hsa_id="SE-BENCH-U1")
    with transaction.atomic(), system_context():
        patients = []
        for number in _numbers(count):
            patient = Patient.objects.create(birth_year=int(number[:4]), home_region_id="12")
            PatientIdentity.objects.create(
                patient=patient,
                personal_identity_number=number,
                given_names="Bengt",
                surname="Benchsson",
                # The encrypted JSON field takes a dict; its stub types only the stored text.
                registered_address={  # type: ignore[misc]
                    "street2": "Mätvägen 1",
                    "postal_code": "21100",
                    "city": "MALMÖ",
                },
            )
            patients.append(patient)
    actor = Actor(user_id=user.pk, unit_id=unit.pk, ip_address=None, session_ref="bench")
    return AccessContext(user=user, actor=actor, session=None), patients


def _spawn_worker(queue: str) -> subprocess.Popen[bytes]:
    command = [
        *(sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo"),
        *("--concurrency", "1", "-Q", queue, "--loglevel", "WARNING"),
        *("--without-gossip", "--without-mingle", "--without-heartbeat"),
    ]
    return subprocess.Popen(command, cwd=settings.BASE_DIR, env=dict(os.environ))  # noqa: S603


def _window(job_ids: list[int]) -> float:
    claims = DocumentJobTransition.objects.filter(job_id__in=job_ids, to_state="rendering")
    first = claims.aggregate(at=Min("at"))["at"]
    last = DocumentJob.objects.filter(pk__in=job_ids).aggregate(at=Max("finished_at"))["at"]
    return float((last - first).total_seconds())


def _html(job_id: int) -> str:
    with transaction.atomic(), system_context():
        return document_job_html(DocumentJob.objects.get(pk=job_id))


def _bare(html: str, count: int) -> float:
    """Bare WeasyPrint: the HTML rendered as WeasyPrint does it untold (a font configuration
    of its own for each document), through the same static-files-only fetcher."""
    started = time.perf_counter()
    for _ in range(count):
        HTML(
            string=html,
            base_url=rendering.DOCUMENT_ORIGIN + "/",
            url_fetcher=rendering.StaticFilesOnly(),
        ).write_pdf()
    return time.perf_counter() - started


def _renderer(html: str, count: int) -> float:
    """The worker's renderer alone (``rendering.html_to_pdf``: fonts and images loaded once
    per process), without the database, the broker or the template."""
    started = time.perf_counter()
    for _ in range(count):
        rendering.html_to_pdf(html)
    return time.perf_counter() - started


def _measure(letter_count: int, list_count: int) -> dict[str, Any]:
    """Runs in the child, on the scratch database."""
    from config.celery import app

    ctx, patients = _seed(max(letter_count, LIST_PAGES) + 1)
    queue = f"bench-{uuid.uuid4().hex}"
    app.conf.task_default_queue = queue

    def letter(patient: Patient) -> int:
        return letters.letters_issue(
            ctx=ctx,
            patients=[patient],
            template="general",
            subject="Om ditt hjälpmedel",
            body="Vi har tagit emot din beställning och hör av oss när hjälpmedlet är klart.",
        ).pk

    warm_up = letter(patients[-1])  # fonts and templates loaded before the clock starts
    letter_ids = [letter(patient) for patient in patients[:letter_count]]
    list_ids = [
        services.document_request(ctx=ctx, kind=SUMMARY_KIND, patients=patients[:LIST_PAGES]).pk
        for _ in range(list_count)
    ]
    # The HTML the bare runs render, taken while the jobs still hold their snapshots: a job that
    # is made drops its snapshot, and its HTML would then be the bare template.
    letter_html, list_html = _html(letter_ids[0]), _html(list_ids[0])
    load_before = os.getloadavg()[0]
    worker = _spawn_worker(queue)
    try:
        every = [warm_up, *letter_ids, *list_ids]
        deadline = time.monotonic() + 1800
        while DocumentJob.objects.filter(pk__in=every, state="ready").count() < len(every):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise CommandError("the worker stopped or took too long")
            time.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    pages = DocumentJob.objects.filter(pk=list_ids[0]).values_list("document__pages", flat=True)
    load_worker = os.getloadavg()[0]
    rendering.html_to_pdf(letter_html)  # the same warm-up for the bare runs
    _bare(letter_html, 1)
    bare_letters_s = _bare(letter_html, letter_count)
    bare_lists_s = _bare(list_html, list_count)
    renderer_letters_s = _renderer(letter_html, letter_count)
    renderer_lists_s = _renderer(list_html, list_count)
    return {
        "load": [load_before, load_worker, os.getloadavg()[0]],
        "letters": letter_count,
        "lists": list_count,
        "list_pages": pages[0],
        "worker_letters_s": _window(letter_ids),
        "worker_lists_s": _window(list_ids),
        "bare_letters_s": bare_letters_s,
        "bare_lists_s": bare_lists_s,
        "renderer_letters_s": renderer_letters_s,
        "renderer_lists_s": renderer_lists_s,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
    }


def _report(f: dict[str, Any]) -> str:
    def rate(count: int, seconds: float) -> str:
        return f"{count / seconds:.1f}/s" if seconds > 0 else "n/a"

    def ratio(worker_s: float, bare_s: float) -> str:
        return f"{worker_s / bare_s:.2f}x" if bare_s > 0 else "n/a"

    return "\n".join(
        [
            f"<!-- {SECTION}:start -->",
            "## Documents (`protection.documents`)",
            "",
            "`make bench-documents` (`manage.py bench_documents --write docs/performance.md`): "
            f"{f['letters']} one-page letters and {f['lists']} documents of "
            f"{f['list_pages']} pages "
            "(a patient summary of 20 patients, the size of a pick list) asked for through "
            "`document_request`, then rendered by one Celery worker (solo pool, one process) on a "
            "real Redis and PostgreSQL: from the first claim to the last stored PDF of each kind. "
            "Bare WeasyPrint renders the same HTML with the same fonts in one process, in the same "
            f"run. Machine: {f['machine']}; one-minute load average before, after the worker's "
            f"part and after the bare part: {', '.join(f'{x:.1f}' for x in f['load'])} (the "
            "machine is shared, so figures taken under load are lower than on a quiet one).",
            "",
            "| document | one worker | the worker's renderer alone | bare WeasyPrint "
            "| worker time / bare time |",
            "|---|---|---|---|---|",
            f"| one-page letter | {rate(f['letters'], f['worker_letters_s'])} "
            f"| {rate(f['letters'], f['renderer_letters_s'])} "
            f"| {rate(f['letters'], f['bare_letters_s'])} "
            f"| {ratio(f['worker_letters_s'], f['bare_letters_s'])} |",
            f"| {f['list_pages']}-page document | {rate(f['lists'], f['worker_lists_s'])} "
            f"| {rate(f['lists'], f['renderer_lists_s'])} "
            f"| {rate(f['lists'], f['bare_lists_s'])} "
            f"| {ratio(f['worker_lists_s'], f['bare_lists_s'])} |",
            "",
            "Bare WeasyPrint is `HTML(string=...).write_pdf()` with the same static-files-only "
            "fetcher and nothing else: WeasyPrint registers the fonts of the `@font-face` rules "
            "anew for each document. The worker's renderer (`rendering.html_to_pdf`) keeps one "
            "font configuration and image cache per process, so fonts and the logo are loaded "
            "once per worker; the worker keeps its database connection from task to task. "
            "Per job the worker runs two transactions and 12 SQL statements besides BEGIN and "
            "COMMIT "
            "(counted with `CaptureQueriesContext`): the claim (one conditional UPDATE that "
            "locks, moves and reads the job, and its history row), the check of the printing "
            "ban against the protection now (subjects with their identities and guards in one "
            "statement) and the HTML, in one transaction in the system context, with a savepoint "
            "so that an error fails the job with its claim; then, after the render, outside any "
            "transaction, the claim checked and locked again, the guards read again (PRINT-1 "
            "during the render), the PDF, the move to ready and its history row. Before issue "
            "16 it was three transactions and about thirty statements, the system context "
            "saving and restoring its setting in a savepoint each time, WeasyPrint loading "
            "the fonts for every document, and a new database connection for every task.",
            f"<!-- {SECTION}:end -->",
        ]
    )
