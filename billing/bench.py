"""The billing benchmark's world and measurement (``manage.py bench_billing``, issue 12).

The logistics benchmark's world (``logistics.bench_data``) gives the devices, patients and
orders; on top of it every lent device becomes a delivered rent line, the received lines
become sales delivered in the month (the "other charge events"), every prescription is marked
for its home region (so the run invoices another region, BILL-7) and the price list and the
regions' billing accounts are added. Then the month is computed (``charges_compute``), run and
issued (``billing_run``) and every invoice validated again on its own, each against a bare
baseline in the same process."""

from __future__ import annotations

import datetime
import resource
import time
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection

from billing.models import AccountKind, BillingAccount, ChargeEvent, Invoice, Tariff, TariffKind
from billing.months import month_end
from billing.services.charges import charges_compute
from billing.services.runs import billing_run, system_context
from patients.models import Region
from patients.services import roles_sync
from prescriptions.models import InvoiceMark, ProductArea

MONTH = datetime.date(2026, 10, 1)
HOME_REGION = "01"
DAY_RATE = Decimal("4.50")


def peak_rss_mb() -> float:
    """The process's peak resident set so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def world_build(*, devices: int, events: int, patients: int) -> dict[str, int]:
    from logistics.bench_data import REGION
    from logistics.bench_data import world_build as logistics_world

    logistics_world(devices=devices, articles=400, lines=events, patients=patients)
    home = HOME_REGION if REGION != HOME_REGION else "03"
    with connection.cursor() as cursor:
        # Every lent device on a delivered rent line, spread over the orders (positions from
        # 100 keep clear of the orders' own lines), delivered during the four months before.
        cursor.execute(
            """
            WITH orders AS (
                SELECT id, row_number() OVER (ORDER BY id) - 1 AS i, count(*) OVER () AS n
                FROM logistics_customerorder
            ), lent AS (
                SELECT id, article_id, row_number() OVER (ORDER BY id) - 1 AS j
                FROM logistics_device WHERE status = 'on_loan'
            )
            INSERT INTO logistics_customerorderline (order_id, position, article_id, quantity,
                supply, state, promised_on, delivered_on, device_id, cancelled_reason)
            SELECT o.id, 100 + l.j / o.n, l.article_id, 1, 'rent', 'delivered',
                   %(month)s::date - 1 - (l.j %% 120)::int, %(month)s::date - 1 - (l.j %% 120)::int,
                   l.id, ''
            FROM lent l JOIN orders o ON o.i = l.j %% o.n
            """,
            {"month": MONTH},
        )
        rent_lines = cursor.rowcount
        # The orders' own lines: sold and delivered during the month.
        cursor.execute(
            """
            UPDATE logistics_customerorderline
            SET supply = 'sell', state = 'delivered',
                delivered_on = %(month)s::date + (id %% 28)::int
            WHERE position < 100
            """,
            {"month": MONTH},
        )
        sale_lines = cursor.rowcount
        cursor.execute(
            """
            INSERT INTO prescriptions_invoicemark (prescription_id, payer, region_id,
                amount_sek, rule, deactivate_after_invoicing, created_at)
            SELECT o.prescription_id, 'home_region', %(home)s, 0, 'REGION-1', false,
                   %(month)s::date - 400
            FROM logistics_customerorder o WHERE o.prescription_id IS NOT NULL
            """,
            {"home": home, "month": MONTH},
        )
    since = MONTH - datetime.timedelta(days=800)
    Tariff.objects.create(kind=TariffKind.LABOUR_HOUR, price_sek=Decimal(650), valid_from=since)
    Tariff.objects.bulk_create(
        Tariff(kind=TariffKind.RENT_DAY, product_area=area, price_sek=DAY_RATE, valid_from=since)
        for area in ProductArea.objects.all()
    )
    region = Region.objects.get(pk=home)
    BillingAccount.objects.create(
        kind=AccountKind.REGION,
        region=region,
        customer_number=f"R{home}",
        name=region.name,
        organisation_number="2321000016",
        street="Box 1",
        postal_code="10000",
        city="Stockholm",
        email="faktura@bench.example",
        default_buyer_reference=f"HJM-{home}",
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "rent_lines": rent_lines,
        "sale_lines": sale_lines,
        "marks": InvoiceMark.objects.count(),
    }


def _bare_insert_select() -> float:
    """The baseline: one bare INSERT … SELECT of the month's rent rows (device, days, amount)
    into a temporary table, no rent stops, no payer, no idempotency."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TEMPORARY TABLE bare_rent AS
            SELECT l.id, l.device_id, l.article_id,
                   (%(last)s::date - greatest(l.delivered_on, %(month)s::date) + 1) AS days,
                   (%(last)s::date - greatest(l.delivered_on, %(month)s::date) + 1) * 4.50
                       AS amount
            FROM logistics_customerorderline l
            WHERE l.supply = 'rent' AND l.delivered_on <= %(last)s AND l.device_id IS NOT NULL
            """,
            {"month": MONTH, "last": month_end(MONTH)},
        )
        cursor.execute("DROP TABLE bare_rent")
    return time.perf_counter() - started


def _validation(invoices: list[Invoice]) -> dict[str, Any]:
    from lxml import etree

    from billing.peppol.validation import peppol_validate

    per_invoice = []
    bare = []
    for invoice in invoices:
        xml = bytes(invoice.ubl_xml)
        started = time.perf_counter()
        etree.fromstring(xml)
        bare.append(time.perf_counter() - started)
        started = time.perf_counter()
        result = peppol_validate(xml)
        per_invoice.append(time.perf_counter() - started)
        assert not result.fatal, result
    return {
        "invoices": len(invoices),
        "validate_ms": 1000 * sum(per_invoice) / max(len(per_invoice), 1),
        "bare_parse_ms": 1000 * sum(bare) / max(len(bare), 1),
    }


#: Invoice sizes for the validation's scaling: Saxon's time grows with the lines, so one figure
#: per invoice says little without the size it was measured at.
SCALING_LINES = (1, 10, 50, 100, 500)


def _validation_scaling(invoice: Invoice) -> list[dict[str, float]]:
    """Validation time for invoices of 1 to 500 lines: the run's own invoice with its first
    line repeated (new line ids), best of three. The totals then no longer match the lines, so
    these copies have findings; only the time is kept, against the same bare lxml parse."""
    import copy

    from lxml import etree

    from billing.peppol.validation import peppol_validate

    cac = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
    cbc = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
    source = etree.fromstring(bytes(invoice.ubl_xml))
    line_tag = f"{{{cac}}}InvoiceLine"
    first = source.find(line_tag)
    assert first is not None, "the benchmark's invoice has lines"
    rows = []
    for count in SCALING_LINES:
        root = copy.deepcopy(source)
        for line in root.findall(line_tag):
            root.remove(line)
        for number in range(1, count + 1):
            line = copy.deepcopy(first)
            line_id = line.find(f"{{{cbc}}}ID")
            assert line_id is not None
            line_id.text = str(number)
            root.append(line)
        xml = etree.tostring(root)
        times = []
        for _ in range(3):
            started = time.perf_counter()
            peppol_validate(xml)
            times.append(time.perf_counter() - started)
        rows.append({"lines": count, "validate_ms": 1000 * min(times)})
    return rows


def measure(world: dict[str, int]) -> dict[str, Any]:
    """Compute, run and validate the month; figures with their baselines."""
    bare_s = _bare_insert_select()
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    computed = charges_compute(month=MONTH)
    compute_s = time.perf_counter() - started
    rss_compute = peak_rss_mb()
    user = get_user_model().objects.create_user(username="bench-billing")
    roles_sync()
    user.groups.add(Group.objects.get(name="billing"))
    started = time.perf_counter()
    # The run on the first of the next month, as the billing team runs it.
    today = month_end(MONTH) + datetime.timedelta(days=1)
    run = billing_run(month=MONTH, dry_run=False, ctx=system_context(user), today=today)
    run_s = time.perf_counter() - started
    invoices = list(Invoice.objects.filter(run=run))
    return {
        "world": world,
        "charges": ChargeEvent.objects.count(),
        "created": computed.created,
        "problems": len(computed.problems),
        "compute_s": compute_s,
        "bare_insert_select_s": bare_s,
        "run_s": run_s,
        "invoice_lines": sum(i.lines.count() for i in invoices),
        "rss_before_mb": rss_before,
        "rss_compute_mb": rss_compute,
        "rss_peak_mb": peak_rss_mb(),
        "validation": _validation(invoices),
        "validation_scaling": _validation_scaling(invoices[0]),
    }
