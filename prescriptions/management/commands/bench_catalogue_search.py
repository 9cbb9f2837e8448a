"""``manage.py bench_catalogue_search``: catalogue search over a region-sized catalogue.

In a scratch database (created, migrated and dropped by the command): the sample catalogue
loaded with the real import, then generated articles up to ``--articles`` (50 000 by default)
derived from the sample's rows with variations of name, size, price, stock and agreement, with
accessories, replacement groups and ended agreements in realistic shares. Then, in a child
process running the product's settings, timed requests through Django's full middleware stack as
a logged-in prescriber: the catalogue search page for several realistic queries (names with and
without typing errors, article numbers, ISO 9999 prefixes, a product-area filter) against a bare
one-query view of the same articles rendered with the same template. Figures (p50 and p95 per
kind) go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import override_settings

from patients.bench import percentiles, scratch_database, timed, write_section
from patients.models import StaffProfile, Unit
from patients.services import roles_sync
from prescriptions.models import Agreement, Article, ArticleKind, ReplacementGroup, Supplier
from prescriptions.selectors.catalogue import WORD_SIMILARITY_THRESHOLD

SECTION = "bench_catalogue_search"
SHARED = Path(settings.BASE_DIR).parent / "shared" / "data"

VARIANTS = ("", " Plus", " Comfort", " II", " Light", " XL", " Junior", " Bariatric")
SIZES = ("", " storlek S", " storlek M", " storlek L", " 90 cm", " 105 cm", " 120 cm")
# (label, query, product area): what prescribers type, with their usual slips.
QUERIES = (
    ("name", "rollator", ""),
    ("name, typo", "rolator", ""),
    ("name, typo", "kryka", ""),
    ("name, two words", "säng 90", ""),
    ("name, typo, two words", "madras curocel", ""),
    ("name, area filter", "rullstol", "mobility"),
    ("article number, exact", "44001", ""),
    ("article number, prefix", "1234", ""),
    ("ISO 9999 prefix", "1206", ""),
    ("ISO 9999 code with spaces", "12 06 06", ""),
)


class Command(BaseCommand):
    help = "Benchmark catalogue search over 50 000 articles against a bare one-query view."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--articles", type=int, default=50_000)
        parser.add_argument("--rounds", type=int, default=40, help="timed rounds of all queries")
        parser.add_argument("--write", type=Path, help="update this Markdown file's section")
        parser.add_argument("--keep", action="store_true", help="keep the scratch database")
        # Internal: the child process that loads and measures.
        parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["measure"]:
            _populate(options["articles"])
            self.stdout.write(json.dumps(_measure(options["rounds"])))
            return
        with scratch_database("catbench", keep=options["keep"]) as (env, _owner):
            self.stdout.write(f"loading {options['articles']} articles and measuring")
            result = subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
                [
                    sys.executable,
                    "manage.py",
                    "bench_catalogue_search",
                    "--measure",
                    "--articles",
                    str(options["articles"]),
                    "--rounds",
                    str(options["rounds"]),
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
        report = _report(figures, options["articles"], options["rounds"])
        self.stdout.write(report)
        if options["write"]:
            write_section(options["write"], SECTION, report)


def _populate(total: int) -> None:
    """The sample catalogue through the real import, then generated articles up to ``total``."""
    from prescriptions.services.catalogue import catalogue_import

    report = catalogue_import(
        path=SHARED / "catalogue.csv", product_areas_path=SHARED / "product_areas.csv"
    )
    if report.rejected:
        raise CommandError(f"the sample catalogue did not load: {report.rejections}")
    rng = random.Random(4)
    samples = list(Article.objects.filter(kind__in=[ArticleKind.MAIN, ArticleKind.CONSUMABLE]))
    accessories = list(Article.objects.filter(kind=ArticleKind.ACCESSORY))
    suppliers = list(Supplier.objects.all())
    today = date.today()
    agreements = list(Agreement.objects.all())
    for n in range(200):
        ended = n % 10 == 0  # one agreement in ten has ended
        agreements.append(
            Agreement.objects.create(
                code=f"AVT-B-{n:03d}",
                supplier=suppliers[n % len(suppliers)],
                valid_from=today - timedelta(days=900),
                valid_until=today - timedelta(days=30) if ended else today + timedelta(days=700),
            )
        )
    groups = [
        ReplacementGroup.objects.create(code=f"G-B-{n:04d}", kind=("fixed", "optional")[n % 2])
        for n in range(1500)
    ]
    mains: list[Article] = []
    batch: list[Article] = []
    number = 100_000
    for _ in range(total - Article.objects.count()):
        number += 1
        accessory = bool(mains) and rng.random() < 0.15
        base = rng.choice(accessories if accessory else samples)
        name = f"{base.name}{rng.choice(VARIANTS)}{rng.choice(SIZES)}".strip()[:200]
        article = Article(
            article_number=str(number),
            name=name,
            iso9999=base.iso9999,
            product_area_id=base.product_area_id,
            price_sek=(base.price_sek * Decimal(rng.uniform(0.7, 1.3))).quantize(Decimal("0.01")),
            kind=base.kind,
            main_article=rng.choice(mains) if accessory else None,
            advanced_service=base.advanced_service,
            assortment_days=rng.choice((7, 7, 7, 17)),
            in_assortment=rng.random() > 0.05,
            out_of_stock=rng.random() < 0.03,
            lifespan_years=base.lifespan_years,
            supply=base.supply,
            replacement_group=rng.choice(groups) if rng.random() < 0.1 else None,
            agreement=rng.choice(agreements),
            weight_kg=base.weight_kg,
            length_cm=base.length_cm,
            girth_cm=base.girth_cm,
        )
        batch.append(article)
        if len(batch) == 5000:
            created = Article.objects.bulk_create(batch)
            mains += [a for a in created if a.kind == ArticleKind.MAIN][:2000]
            batch = []
    Article.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE prescriptions_article")


def _measure(rounds: int) -> dict[str, Any]:
    """Runs in the child, against the scratch database, with the product's middleware."""
    roles_sync()
    user = get_user_model().objects.create_user("bench-prescriber")  # force_login: no password
    user.groups.add(Group.objects.get(name="prescriber"))
    unit = Unit.objects.create(name="Benchmark unit", hsa_id="SE-BENCH-CAT", region_id="12")
    StaffProfile.objects.create(user=user, unit=unit)
    with connection.cursor() as cursor:
        # The bare view runs the same statement as the search; the search sets the threshold on
        # each name search, the bare view relies on this.
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, false)",
            [WORD_SIMILARITY_THRESHOLD],
        )
    samples: dict[str, list[float]] = {"bare": [], "search": []}
    per_query: dict[str, list[float]] = {q: [] for _, q, _ in QUERIES}
    with override_settings(ROOT_URLCONF="prescriptions.bench", ALLOWED_HOSTS=["testserver"]):
        client = Client()
        client.force_login(user)
        for _, query, area in QUERIES:
            params = {"q": query, "area": area}
            search = client.get("/catalogue/", params).content.decode()
            bare = client.get("/bench/catalogue-bare/", params).content.decode()
            if _article_links(search, accessories=False) != _article_links(bare, accessories=False):
                raise CommandError(f"the bare view and the search differ for {query!r}")
        for _ in range(rounds):
            for _, query, area in QUERIES:
                params = {"q": query, "area": area}
                for url, kind in (("/bench/catalogue-bare/", "bare"), ("/catalogue/", "search")):
                    timed(partial(client.get, url, params), samples[kind], what=f"{url} {params}")
                per_query[query].append(samples["search"][-1])
        counts = {
            query: len(
                _article_links(
                    client.get("/catalogue/", {"q": query, "area": area}).content.decode(),
                    accessories=False,
                )
            )
            for _, query, area in QUERIES
        }
    return {
        "kinds": {kind: percentiles(values) for kind, values in samples.items()},
        "queries": {query: percentiles(values) for query, values in per_query.items()},
        "results": counts,
        "articles": Article.objects.count(),
    }


def _article_links(page: str, *, accessories: bool) -> list[str]:
    """The main rows' article numbers, in order, as the page shows them."""
    rows = page.split("<tbody>", 1)[-1].split("</tbody>", 1)[0].split("<tr")[1:]
    return [
        row.split("</td>", 1)[0].rsplit(">", 1)[-1].strip()
        for row in rows
        if accessories or 'class="accessory-row"' not in row
    ]


def _report(figures: dict[str, Any], articles: int, rounds: int) -> str:
    bare = figures["kinds"]["bare"]
    search = figures["kinds"]["search"]
    lines = [
        f"<!-- {SECTION}:start -->",
        "## Catalogue search (`prescriptions.selectors.catalogue.article_search`)",
        "",
        f"Measured {date.today().isoformat()} on {platform.machine()}, {os.cpu_count()} cores, "
        f"PostgreSQL on the same machine, {figures['articles']:,} articles (the sample catalogue "
        f"and {articles - 53:,} generated from it: variants and sizes of its names, prices "
        "±30 %, 15 % accessories, 10 % in replacement groups, 5 % phased out, 3 % out of stock, "
        "one agreement in ten ended). Each request goes through the full middleware stack with "
        "Django's test client, logged in as a prescriber; up to 50 results per page. The bare "
        "view runs the search's one statement for the same articles and renders the same "
        "template, without accessories, replacement proposals or the product-area list. "
        "Command: `make bench-catalogue` (= `python manage.py bench_catalogue_search "
        "--write docs/performance.md`).",
        "",
        "| request | p50 | p95 | p50 / bare | p95 / bare |",
        "|---|---:|---:|---:|---:|",
        f"| Bare one-query view (floor) | {bare['p50']:.2f} ms | {bare['p95']:.2f} ms | 1.00 "
        "| 1.00 |",
        f"| Catalogue search page | {search['p50']:.2f} ms | {search['p95']:.2f} ms | "
        f"{search['p50'] / bare['p50']:.2f} | {search['p95'] / bare['p95']:.2f} |",
        "",
        "Per query (search page):",
        "",
        "| query | kind | results shown | p50 | p95 |",
        "|---|---|---:|---:|---:|",
    ]
    for label, query, area in QUERIES:
        f = figures["queries"][query]
        shown = f"`{query}`" + (f" in `{area}`" if area else "")
        lines.append(
            f"| {shown} | {label} | {figures['results'][query]} | {f['p50']:.2f} ms | "
            f"{f['p95']:.2f} ms |"
        )
    lines += [
        "",
        f"{rounds} rounds of the {len(QUERIES)} queries: {int(bare['n'])} timed requests of each "
        "kind.",
        f"<!-- {SECTION}:end -->",
    ]
    return "\n".join(lines)
