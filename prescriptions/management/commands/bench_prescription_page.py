"""``manage.py bench_prescription_page``: the prescription page with 20 lines, against a bare
one-query view of the same lines, in the same run.

Everything happens inside one transaction that is rolled back at the end, in whatever database
the settings point at: a prescriber with a unit and training, 20 catalogue articles, a patient
(a Skatteverket test number) and a draft with 20 lines built through the product's services.
Then, logged in as the prescriber with Django's test client (the full middleware stack), the
page (``/prescriptions/<number>/``: the gate and its access entry, lines, eligibility, history,
the catalogue form) and the bare view (``prescriptions.bench_prescription``) are requested in
turn; p50 and p95 of each go to docs/performance.md with ``--write``.
"""

from __future__ import annotations

import os
import platform
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from patients.bench import percentiles, timed, write_section
from patients.models import Patient, PatientIdentity, StaffProfile, Unit
from patients.services import Actor, roles_sync
from prescriptions.models import (
    Agreement,
    Article,
    ArticleKind,
    Authorisation,
    CompetenceArea,
    CompetenceRegistration,
    PrescriberProfile,
    PrescribingUnit,
    ProductArea,
    Supplier,
    Supply,
)
from prescriptions.services.drafts import prescription_draft_start
from prescriptions.services.lines import prescription_line_add
from protection.gate import AccessContext

SECTION = "bench_prescription_page"
LINES = 20
PATIENT_NUMBER = "200307052381"  # ../shared/data/testpersonnummer.txt (IDENT-4)


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Benchmark the prescription page with 20 lines against a bare one-query view."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--requests", type=int, default=300, help="timed requests per kind")
        parser.add_argument("--write", type=Path, help="update this Markdown file's section")

    def handle(self, *args: Any, **options: Any) -> None:
        figures: dict[str, dict[str, float]] = {}
        try:
            with transaction.atomic():
                number, user = _populate()
                figures = _measure(number, user, options["requests"])
                raise _Rollback
        except _Rollback:
            pass
        report = _report(figures)
        self.stdout.write(report)
        if options["write"]:
            write_section(options["write"], SECTION, report)


def _populate() -> tuple[str, Any]:
    """A prescriber, 20 articles, a patient and a draft with 20 lines; rolled back afterwards."""
    with connection.cursor() as cursor:
        # The set-up writes an identity as the system would (row-level security); the timed
        # requests run as the prescriber (the middleware names the user per request).
        cursor.execute("SELECT set_config('hjm.context', 'system', true)")
    roles_sync()
    user = get_user_model().objects.create_user("bench-rx-prescriber")  # force_login only
    user.groups.add(Group.objects.get(name="prescriber"))
    unit = Unit.objects.create(name="Benchmark unit", hsa_id="SE-BENCH-RX-1", region_id="12")
    StaffProfile.objects.create(user=user, unit=unit)
    prescribing = PrescribingUnit.objects.create(
        unit=unit,
        delivery_street="Vårdvägen 1",
        delivery_postal_code="21100",
        delivery_town="Malmö",
    )
    profile = PrescriberProfile.objects.create(
        user=user, authorisation=Authorisation.PERSONAL_HEALTH
    )
    profile.units.set([prescribing])
    competence, _ = CompetenceArea.objects.get_or_create(
        code="bench_competence", defaults={"name": "Benchmark"}
    )
    CompetenceRegistration.objects.create(
        prescriber=profile, competence_area=competence, trained_on=date(2025, 1, 1), level="basic"
    )
    area = ProductArea.objects.create(
        code="bench_area", name="Benchmark area", competence_area=competence
    )
    agreement = Agreement.objects.create(
        code="AVT-BENCH-RX", supplier=Supplier.objects.create(name="Benchmark supplier AB")
    )
    articles = Article.objects.bulk_create(
        Article(
            article_number=f"BENCH-RX-{n:03d}",
            name=f"Benchmark article {n}",
            iso9999="120606",
            product_area=area,
            price_sek=Decimal("450.00"),
            kind=ArticleKind.MAIN,
            assortment_days=7,
            supply=Supply.RENT,
            agreement=agreement,
            weight_kg=Decimal("1.0"),
            length_cm=50,
            girth_cm=100,
        )
        for n in range(LINES)
    )
    identity = PatientIdentity.objects.filter(personal_identity_number=PATIENT_NUMBER).first()
    if identity is None:
        patient = Patient.objects.create(birth_year=2003, home_region_id="12")
        PatientIdentity.objects.create(
            patient=patient,
            personal_identity_number=PATIENT_NUMBER,
            given_names="Bench",
            surname="Patientsson",
        )
    else:
        patient = identity.patient
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('hjm.context', '', true)")
    ctx = AccessContext(
        user=user,
        actor=Actor(user_id=user.pk, unit_id=unit.pk, ip_address=None, session_ref=""),
        session=None,
    )
    prescription = prescription_draft_start(ctx=ctx, patient_reference=patient.reference)
    for article in articles:
        prescription_line_add(ctx=ctx, reference=prescription.reference, article_id=article.pk)
    return prescription.reference, user


def _measure(number: str, user: Any, requests: int) -> dict[str, dict[str, float]]:
    page_url = f"/prescriptions/{number}/"
    bare_url = f"/bench/prescription-bare/{number}/"
    samples: dict[str, list[float]] = {"bare": [], "page": []}
    queries: dict[str, int] = {}
    with override_settings(
        ROOT_URLCONF="prescriptions.bench_prescription", ALLOWED_HOSTS=["testserver"]
    ):
        client = Client()
        client.force_login(user)
        content = client.get(page_url).content.decode()
        if content.count('<li id="line-') != LINES:
            raise CommandError("the prescription page does not show the 20 lines")
        for kind, url in (("bare", bare_url), ("page", page_url)):
            with CaptureQueriesContext(connection) as captured:
                client.get(url)
            queries[kind] = len(captured.captured_queries)
        warm: list[float] = []
        for _ in range(20):
            timed(partial(client.get, bare_url), warm, what=bare_url)
            timed(partial(client.get, page_url), warm, what=page_url)
        for _ in range(requests):
            timed(partial(client.get, bare_url), samples["bare"], what=bare_url)
            timed(partial(client.get, page_url), samples["page"], what=page_url)
    return {
        kind: {**percentiles(values), "queries": queries[kind]} for kind, values in samples.items()
    }


def _report(figures: dict[str, dict[str, float]]) -> str:
    bare = figures["bare"]
    rows = [
        ("Bare one-query view of the 20 lines (floor)", "bare"),
        ("Prescription page, draft with 20 lines", "page"),
    ]
    lines = [
        f"<!-- {SECTION}:start -->",
        "## Prescription page (`/prescriptions/<number>/`)",
        "",
        f"Measured {date.today().isoformat()} on {platform.machine()}, {os.cpu_count()} cores, "
        "PostgreSQL on the same machine. A draft with 20 lines for an ordinary patient, requested "
        "as its prescriber through the full middleware stack with Django's test client; each "
        "page request goes through the gate and writes its access entry, and renders the lines' "
        "forms, the catalogue search form, delivery, history and cancel. The bare view reads the "
        "same 20 lines in one query and renders them in a plain table. Set-up and requests run "
        "in one transaction that is rolled back. Command: `make bench-prescription` "
        "(= `python manage.py bench_prescription_page --write docs/performance.md`). The page's "
        "query count is pinned in tests/prescriptions/test_views_query_counts.py and does not "
        "grow with the number of lines.",
        "",
        "| request | queries | p50 | p95 | p50 / bare | p95 / bare |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, kind in rows:
        f = figures[kind]
        lines.append(
            f"| {label} | {int(f['queries'])} | {f['p50']:.2f} ms | {f['p95']:.2f} ms | "
            f"{f['p50'] / bare['p50']:.2f} | {f['p95'] / bare['p95']:.2f} |"
        )
    lines += ["", f"{int(bare['n'])} timed requests of each kind.", f"<!-- {SECTION}:end -->"]
    return "\n".join(lines)
