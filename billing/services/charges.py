"""Charge derivation (issue 12): the month's charge events from what happened on the floors
below: rent per device and day, sales, urgent fees, labour and parts of done work orders, lost
device debits (BILL-4, valued by logistics' decision) and patient fees (REGION-5).

Recomputing a month is idempotent: every fact has a key (``rent:<order line>:<month>``, ...),
an event is written once per key, and a fact whose amount changed since (a pickup registered
late, a corrected work order) gets a correction event for the difference, which the next run
invoices or credits. Events are never changed (append-only, a database trigger)."""

from __future__ import annotations

import datetime
import itertools
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from billing.models import ChargeKind, PayerKind, Tariff, TariffKind
from billing.models.charges import UnitCode
from billing.months import month_end
from billing.rent import RentStop, rent_intervals
from logistics.models import (
    CustomerOrder,
    CustomerOrderLine,
    DeviceEvent,
    DeviceStatus,
    LossCase,
    PickupLine,
    UrgentFee,
    WorkOrder,
    WorkOrderPart,
)
from logistics.models.pickups import LossState
from logistics.models.workorders import WorkOrderState
from prescriptions.models import Article, InvoiceMark
from prescriptions.models.catalogue import Supply
from prescriptions.models.region import Payer as MarkPayer

CENT = Decimal("0.01")
# Taken for the whole recompute, so that two runs of a month never write one fact twice.
COMPUTE_LOCK_KEY = int.from_bytes(b"BILLCHG", "big")
# Rows fetched at a time when streaming the facts (memory stays flat with the volume).
CHUNK = 2000


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class PayerRef:
    kind: str
    region_id: str | None = None
    unit_id: int | None = None
    patient_id: int | None = None
    invoice_mark_id: int | None = None


@dataclass
class Fact:
    key: str
    kind: str
    payer: PayerRef
    period_start: datetime.date
    period_end: datetime.date
    quantity: Decimal
    unit_code: str
    unit_price: Decimal
    text: str
    order_number: str = ""
    delivered_on: datetime.date | None = None
    patient_id: int | None = None
    article_id: int | None = None
    device_id: int | None = None
    sources: dict[str, Any] = field(default_factory=dict)

    @property
    def amount(self) -> Decimal:
        return money(self.quantity * self.unit_price)


@dataclass
class ComputeSummary:
    created: int = 0
    corrections: int = 0
    unchanged: int = 0
    # What could not be charged, for the billing officer to put right (never a patient).
    problems: list[str] = field(default_factory=list)


def order_payer(order: CustomerOrder) -> PayerRef:
    """REGION-1, REGION-5, BILL-6: an out-of-region prescription's costs go to the home region
    its invoice mark names, a patient paying themself pays; otherwise the prescribing unit."""
    mark: InvoiceMark | None = (
        getattr(order.prescription, "invoice_mark", None) if (order.prescription_id) else None
    )
    if mark is not None and mark.payer == MarkPayer.HOME_REGION and mark.region_id:
        return PayerRef(PayerKind.HOME_REGION, region_id=mark.region_id, invoice_mark_id=mark.pk)
    if mark is not None and mark.payer == MarkPayer.PATIENT_AT_UNIT:
        return PayerRef(PayerKind.PATIENT, patient_id=order.patient_id, invoice_mark_id=mark.pk)
    return PayerRef(PayerKind.UNIT, unit_id=order.unit_id)


class Tariffs:
    """The price list in force on a day: rent per article, else per product area; labour."""

    def __init__(self, day: datetime.date) -> None:
        in_force = Tariff.objects.filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=day), valid_from__lte=day
        ).order_by("valid_from")
        self.rent_article: dict[int, Decimal] = {}
        self.rent_area: dict[str, Decimal] = {}
        self.labour: Decimal | None = None
        for tariff in in_force:
            if tariff.kind == TariffKind.LABOUR_HOUR:
                self.labour = tariff.price_sek
            elif tariff.article_id is not None:
                self.rent_article[tariff.article_id] = tariff.price_sek
            elif tariff.product_area_id is not None:
                self.rent_area[tariff.product_area_id] = tariff.price_sek

    def rent(self, article: Article) -> Decimal | None:
        price = self.rent_article.get(article.pk)
        return price if price is not None else self.rent_area.get(article.product_area_id)


def _rent_stopped_lines(last: datetime.date) -> QuerySet[CustomerOrderLine]:
    """The rent lines whose device has a pickup or a scrapping: the few whose periods need
    ``rent_intervals``. Every other rent line is on rent from its delivery to the month's end,
    which ``_rent_bulk`` derives in one statement."""
    return (
        CustomerOrderLine.objects.filter(
            supply=Supply.RENT, delivered_on__isnull=False, delivered_on__lte=last
        )
        .exclude(device__isnull=True)
        .filter(
            Exists(PickupLine.objects.filter(device_id=OuterRef("device_id")))
            | Exists(
                DeviceEvent.objects.filter(
                    device_id=OuterRef("device_id"), to_state=DeviceStatus.SCRAPPED
                )
            )
        )
    )


def _rent_facts(month: datetime.date, tariffs: Tariffs, summary: ComputeSummary) -> Iterator[Fact]:
    last = month_end(month)
    lines = list(
        _rent_stopped_lines(last)
        .select_related("order__prescription__invoice_mark", "article")
        .order_by("pk")
    )
    device_ids = [line.device_id for line in lines if line.device_id is not None]
    stops: dict[int, list[RentStop]] = defaultdict(list)
    for pickup in PickupLine.objects.filter(device_id__in=device_ids).values(
        "device_id", "rent_stops_on", "rent_restarted_on"
    ):
        stops[pickup["device_id"]].append(
            RentStop(pickup["rent_stops_on"], pickup["rent_restarted_on"])
        )
    scrapped: dict[int, datetime.date] = {}
    for event in DeviceEvent.objects.filter(
        device_id__in=device_ids, to_state=DeviceStatus.SCRAPPED
    ).values("device_id", "at"):
        day = event["at"].date()
        scrapped[event["device_id"]] = min(day, scrapped.get(event["device_id"], day))
    for line in lines:
        assert line.delivered_on is not None
        assert line.device_id is not None
        intervals = rent_intervals(
            delivered_on=line.delivered_on,
            stops=[s for s in stops[line.device_id] if s.stops_on >= line.delivered_on],
            scrapped_on=scrapped.get(line.device_id),
        )
        days = sum(i.days_within(month, last) for i in intervals)
        if days == 0:
            continue
        price = tariffs.rent(line.article)
        if price is None:
            summary.problems.append(_no_tariff(line.article.article_number, line.order.number))
            continue
        charged = [i for i in intervals if i.days_within(month, last)]
        yield Fact(
            key=f"rent:{line.pk}:{month:%Y-%m}",
            kind=ChargeKind.RENT,
            payer=order_payer(line.order),
            period_start=max(charged[0].start, month),
            period_end=min(
                (charged[-1].end - datetime.timedelta(days=1)) if charged[-1].end else last,
                last,
            ),
            quantity=Decimal(days),
            unit_code=UnitCode.DAY,
            unit_price=price,
            text=f"Hyra {line.article.name}",
            order_number=line.order.number,
            delivered_on=line.delivered_on,
            patient_id=line.order.patient_id,
            article_id=line.article_id,
            device_id=line.device_id,
            sources={"customer_order_id": line.order_id},
        )


def _no_tariff(article_number: str, order_number: str) -> str:
    return f"No rent tariff for article {article_number}: order {order_number} not charged."


def _rent_bulk(
    cursor: Any, month: datetime.date, tariffs: Tariffs, summary: ComputeSummary
) -> None:
    """The month's rent of every line not in ``_rent_stopped_lines``, as facts, in one
    INSERT … SELECT: on rent from the delivery (or the month's first day) to the month's last
    day; the payer as ``order_payer`` decides; the price as ``Tariffs.rent`` finds it."""
    last = month_end(month)
    cursor.execute(
        """
        INSERT INTO billing_month_facts (idempotency_key, kind, payer_kind, payer_region_id,
            payer_unit_id, invoice_mark_id, patient_id, period_start, period_end,
            delivered_on, quantity, unit_code, unit_price_sek, amount_sek, text,
            order_number, article_id, device_id, customer_order_id)
        SELECT 'rent:' || l.id || ':' || %(ym)s, %(rent_kind)s,
            CASE WHEN m.home THEN %(home)s WHEN m.self_paying THEN %(patient)s
                 ELSE %(unit)s END,
            CASE WHEN m.home THEN m.region_id END,
            CASE WHEN m.home OR m.self_paying THEN NULL ELSE o.unit_id END,
            CASE WHEN m.home OR m.self_paying THEN m.id END,
            o.patient_id, greatest(l.delivered_on, %(first)s), %(last)s, l.delivered_on,
            days.n, %(day)s, price.sek, round(days.n * price.sek, 2),
            left('Hyra ' || a.name, 200), o.number, l.article_id, l.device_id, l.order_id
        FROM logistics_customerorderline l
        JOIN logistics_customerorder o ON o.id = l.order_id
        JOIN prescriptions_article a ON a.id = l.article_id
        LEFT JOIN (
            SELECT id, prescription_id, region_id,
                   payer = %(mark_home)s AND region_id IS NOT NULL AS home,
                   payer = %(mark_patient)s AS self_paying
            FROM prescriptions_invoicemark
        ) m ON m.prescription_id = o.prescription_id
        LEFT JOIN unnest(%(article_ids)s::bigint[], %(article_prices)s::numeric[])
            AS by_article(id, sek) ON by_article.id = l.article_id
        LEFT JOIN unnest(%(area_ids)s::varchar[], %(area_prices)s::numeric[])
            AS by_area(id, sek) ON by_area.id = a.product_area_id
        CROSS JOIN LATERAL (
            SELECT %(last)s::date - greatest(l.delivered_on, %(first)s::date) + 1 AS n
        ) days
        CROSS JOIN LATERAL (SELECT coalesce(by_article.sek, by_area.sek) AS sek) price
        WHERE l.supply = %(supply)s AND l.delivered_on <= %(last)s
          AND l.device_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM logistics_pickupline p WHERE p.device_id = l.device_id)
          AND NOT EXISTS (
              SELECT 1 FROM logistics_deviceevent e
              WHERE e.device_id = l.device_id AND e.to_state = %(scrapped)s
          )
        ORDER BY l.id
        """,
        {
            "ym": f"{month:%Y-%m}",
            "first": month,
            "last": last,
            "rent_kind": ChargeKind.RENT,
            "home": PayerKind.HOME_REGION,
            "patient": PayerKind.PATIENT,
            "unit": PayerKind.UNIT,
            "mark_home": MarkPayer.HOME_REGION,
            "mark_patient": MarkPayer.PATIENT_AT_UNIT,
            "day": UnitCode.DAY,
            "article_ids": list(tariffs.rent_article),
            "article_prices": list(tariffs.rent_article.values()),
            "area_ids": list(tariffs.rent_area),
            "area_prices": list(tariffs.rent_area.values()),
            "supply": Supply.RENT,
            "scrapped": DeviceStatus.SCRAPPED,
        },
    )
    # Without a price nothing is charged: the billing officer is told, per order line.
    cursor.execute(
        """
        DELETE FROM billing_month_facts f USING prescriptions_article a
        WHERE f.unit_price_sek IS NULL AND a.id = f.article_id
        RETURNING a.article_number, f.order_number
        """
    )
    for article_number, order_number in sorted(cursor.fetchall()):
        summary.problems.append(_no_tariff(article_number, order_number))


def _sale_facts(month: datetime.date) -> Iterator[Fact]:
    lines = CustomerOrderLine.objects.filter(
        supply=Supply.BUY, delivered_on__gte=month, delivered_on__lte=month_end(month)
    ).select_related("order__prescription__invoice_mark", "article")
    return (
        Fact(
            key=f"sale:{line.pk}",
            kind=ChargeKind.SALE,
            payer=order_payer(line.order),
            period_start=line.delivered_on,
            period_end=line.delivered_on,
            quantity=Decimal(line.quantity),
            unit_code=UnitCode.EACH,
            unit_price=line.article.price_sek,
            text=f"Försäljning {line.article.name}",
            order_number=line.order.number,
            delivered_on=line.delivered_on,
            patient_id=line.order.patient_id,
            article_id=line.article_id,
            device_id=line.device_id,
            sources={"customer_order_id": line.order_id},
        )
        for line in lines.order_by("pk").iterator(chunk_size=CHUNK)
        if line.delivered_on is not None
    )


def _urgent_facts(month: datetime.date) -> Iterator[Fact]:
    fees = UrgentFee.objects.filter(
        recorded_at__date__gte=month, recorded_at__date__lte=month_end(month)
    ).select_related("order__prescription__invoice_mark")
    for fee in fees.order_by("pk").iterator(chunk_size=CHUNK):
        day = fee.recorded_at.date()
        yield Fact(
            key=f"urgent:{fee.pk}",
            kind=ChargeKind.URGENT_FEE,
            payer=order_payer(fee.order),
            period_start=day,
            period_end=day,
            quantity=Decimal(1),
            unit_code=UnitCode.EACH,
            unit_price=fee.amount_sek,
            text="Expressavgift",
            order_number=fee.order.number,
            delivered_on=day,
            patient_id=fee.order.patient_id,
            sources={"customer_order_id": fee.order_id, "urgent_fee_id": fee.pk},
        )


def _device_orders(device_ids: list[int]) -> dict[int, CustomerOrder]:
    """The order each device was last delivered on: who pays for its repairs."""
    latest: dict[int, CustomerOrder] = {}
    for line in (
        CustomerOrderLine.objects.filter(device_id__in=device_ids, delivered_on__isnull=False)
        .select_related("order__prescription__invoice_mark")
        .order_by("delivered_on", "pk")
    ):
        assert line.device_id is not None
        latest[line.device_id] = line.order
    return latest


def _work_order_facts(
    month: datetime.date, tariffs: Tariffs, summary: ComputeSummary
) -> Iterator[Fact]:
    done = list(
        WorkOrder.objects.filter(
            state=WorkOrderState.DONE,
            finished_at__date__gte=month,
            finished_at__date__lte=month_end(month),
        ).order_by("pk")
    )
    orders = _device_orders([w.device_id for w in done if w.device_id is not None])
    parts: dict[int, list[WorkOrderPart]] = defaultdict(list)
    for part in WorkOrderPart.objects.filter(work_order__in=done).select_related("article"):
        parts[part.work_order_id].append(part)
    for work in done:
        assert work.finished_at is not None
        day = work.finished_at.date()
        order = orders.get(work.device_id) if work.device_id is not None else None
        if order is None:
            # A device never delivered (the store's own): an internal cost, not a charge.
            continue
        common: dict[str, Any] = {
            "payer": order_payer(order),
            "period_start": day,
            "period_end": day,
            "order_number": work.number,
            "delivered_on": day,
            "patient_id": order.patient_id,
            "device_id": work.device_id,
            "sources": {"work_order_id": work.pk},
        }
        if work.minutes_spent:
            if tariffs.labour is None:
                summary.problems.append(f"No labour tariff: work order {work.number} not charged.")
            else:
                hours = (Decimal(work.minutes_spent) / 60).quantize(Decimal("0.01"))
                yield Fact(
                    key=f"labour:{work.pk}",
                    kind=ChargeKind.LABOUR,
                    quantity=hours,
                    unit_code=UnitCode.HOUR,
                    unit_price=tariffs.labour,
                    text=f"Arbete, arbetsorder {work.number}",
                    **common,
                )
        for part in parts[work.pk]:
            yield Fact(
                key=f"part:{part.pk}",
                kind=ChargeKind.PARTS,
                quantity=Decimal(part.quantity),
                unit_code=UnitCode.EACH,
                unit_price=part.article.price_sek,
                text=f"Reservdel {part.article.name}",
                article_id=part.article_id,
                **common,
            )


def _loss_facts(month: datetime.date) -> Iterator[Fact]:
    """BILL-4: the debit logistics' decision valued; the care unit pays (KPI-3 counts it)."""
    cases = LossCase.objects.filter(
        state=LossState.DEBITED, decided_on__gte=month, decided_on__lte=month_end(month)
    ).select_related("device__article")
    return (
        Fact(
            key=f"loss:{case.pk}",
            kind=ChargeKind.LOSS_DEBIT,
            payer=PayerRef(PayerKind.UNIT, unit_id=case.unit_id),
            period_start=case.decided_on,
            period_end=case.decided_on,
            quantity=Decimal(1),
            unit_code=UnitCode.EACH,
            unit_price=case.debit_sek,
            text=f"Förlorat hjälpmedel {case.device.article.name}, ärende {case.number}",
            order_number=case.number,
            delivered_on=case.decided_on,
            article_id=case.device.article_id,
            device_id=case.device_id,
            sources={"loss_case_id": case.pk},
        )
        for case in cases.order_by("pk").iterator(chunk_size=CHUNK)
        if case.decided_on is not None and case.debit_sek is not None
    )


def _patient_fee_facts(month: datetime.date) -> Iterator[Fact]:
    """REGION-5 (BILL-5): a patient paying themself, as the invoice mark records the amount."""
    marks = InvoiceMark.objects.filter(
        payer=MarkPayer.PATIENT_AT_UNIT,
        created_at__date__gte=month,
        created_at__date__lte=month_end(month),
    ).select_related("prescription__episode")
    for mark in marks.order_by("pk").iterator(chunk_size=CHUNK):
        day = mark.created_at.date()
        yield Fact(
            key=f"patientfee:{mark.pk}",
            kind=ChargeKind.PATIENT_FEE,
            payer=PayerRef(
                PayerKind.PATIENT,
                patient_id=mark.prescription.episode.patient_id,
                invoice_mark_id=mark.pk,
            ),
            period_start=day,
            period_end=day,
            quantity=Decimal(1),
            unit_code=UnitCode.EACH,
            unit_price=mark.amount_sek,
            text="Patientavgift",
            order_number=mark.prescription.reference,
            delivered_on=day,
            patient_id=mark.prescription.episode.patient_id,
        )


# The month's facts are gathered in a temporary table (dropped at the end of the derivation):
# the bulk of the rent written by one statement, the rest streamed in by COPY; then compared
# with the events already written, set against set. The columns are the events' own.
FACT_COLUMNS = """idempotency_key, kind, payer_kind, payer_region_id, payer_unit_id,
    invoice_mark_id, patient_id, period_start, period_end, delivered_on, quantity, unit_code,
    unit_price_sek, amount_sek, text, order_number, article_id, device_id, customer_order_id,
    loss_case_id, work_order_id, urgent_fee_id"""


def _fact_row(fact: Fact) -> tuple[Any, ...]:
    payer = fact.payer
    sources = fact.sources
    return (
        fact.key,
        fact.kind,
        payer.kind,
        payer.region_id,
        payer.unit_id,
        payer.invoice_mark_id,
        fact.patient_id or payer.patient_id,
        fact.period_start,
        fact.period_end,
        fact.delivered_on,
        fact.quantity,
        fact.unit_code,
        fact.unit_price,
        fact.amount,
        fact.text[:200],
        fact.order_number,
        fact.article_id,
        fact.device_id,
        sources.get("customer_order_id"),
        sources.get("loss_case_id"),
        sources.get("work_order_id"),
        sources.get("urgent_fee_id"),
    )


def _facts_gather(cursor: Any, month: datetime.date, summary: ComputeSummary) -> None:
    cursor.execute("DROP TABLE IF EXISTS billing_month_facts")
    # The events' column types without their constraints: a missing price is listed below.
    cursor.execute(
        "CREATE TEMPORARY TABLE billing_month_facts AS SELECT "  # noqa: S608 - fixed names
        + FACT_COLUMNS
        + " FROM billing_chargeevent WITH NO DATA"
    )
    # The order the facts came in, which the new events keep (an invoice lists them so).
    cursor.execute("ALTER TABLE billing_month_facts ADD COLUMN seq bigserial")
    tariffs = Tariffs(month)
    _rent_bulk(cursor, month, tariffs, summary)
    facts = itertools.chain(
        _rent_facts(month, tariffs, summary),
        _sale_facts(month),
        _urgent_facts(month),
        _work_order_facts(month, tariffs, summary),
        _loss_facts(month),
        _patient_fee_facts(month),
    )
    # In batches: the facts' own queries cannot run on the connection while it copies.
    while batch := [_fact_row(fact) for fact in itertools.islice(facts, CHUNK)]:
        with cursor.copy("COPY billing_month_facts (" + FACT_COLUMNS + ") FROM STDIN") as copy:
            for row in batch:
                copy.write_row(row)
    cursor.execute("CREATE INDEX ON billing_month_facts (idempotency_key)")
    cursor.execute("ANALYZE billing_month_facts")


def _corrections_write(cursor: Any, summary: ComputeSummary) -> None:
    """A fact whose amount differs from its event's (with the corrections already written):
    the difference as a new event of the event's month. The others are unchanged."""
    cursor.execute(
        """
        CREATE TEMPORARY TABLE billing_month_changes AS
        SELECT f.*, e.id AS base_id, e.month AS base_month, done.n,
               f.amount_sek - e.amount_sek - done.total AS difference
        FROM billing_month_facts f
        JOIN billing_chargeevent e ON e.idempotency_key = f.idempotency_key
        CROSS JOIN LATERAL (
            SELECT count(*) AS n, coalesce(sum(c.amount_sek), 0) AS total
            FROM billing_chargeevent c WHERE c.corrects_id = e.id
        ) done
        """
    )
    cursor.execute(
        """
        INSERT INTO billing_chargeevent (kind, corrects_id, idempotency_key, month, quantity,
            unit_code, unit_price_sek, amount_sek, text, payer_municipality_code, payer_kind,
            payer_region_id, payer_unit_id, invoice_mark_id, patient_id, period_start,
            period_end, delivered_on, order_number, article_id, device_id, customer_order_id,
            loss_case_id, work_order_id, urgent_fee_id)
        SELECT %(correction)s, base_id, idempotency_key || ':c' || (n + 1), base_month,
            -- EN 16931 BR-27: a price is never negative; a credit is a negative quantity.
            sign(difference), %(each)s, abs(difference), difference,
            left('Rättelse: ' || text, 200), '', payer_kind, payer_region_id, payer_unit_id,
            invoice_mark_id, patient_id, period_start, period_end, delivered_on, order_number,
            article_id, device_id, customer_order_id, loss_case_id, work_order_id, urgent_fee_id
        FROM billing_month_changes WHERE difference <> 0
        ORDER BY base_id
        """,
        {"correction": ChargeKind.CORRECTION, "each": UnitCode.EACH},
    )
    summary.corrections = cursor.rowcount
    cursor.execute("SELECT count(*) FROM billing_month_changes WHERE difference = 0")
    summary.unchanged = cursor.fetchone()[0]
    cursor.execute("DROP TABLE billing_month_changes")


@transaction.atomic
def charges_compute(*, month: datetime.date) -> ComputeSummary:
    """Derive the month's charge events (idempotent; see the module's text)."""
    summary = ComputeSummary()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [COMPUTE_LOCK_KEY])
        _facts_gather(cursor, month, summary)
        _corrections_write(cursor, summary)
        # A fact without an event becomes one; one with an event was compared above.
        cursor.execute(
            """
            INSERT INTO billing_chargeevent (kind, idempotency_key, month, quantity, unit_code,
                unit_price_sek, amount_sek, text, payer_municipality_code, payer_kind,
                payer_region_id, payer_unit_id, invoice_mark_id, patient_id, period_start,
                period_end, delivered_on, order_number, article_id, device_id,
                customer_order_id, loss_case_id, work_order_id, urgent_fee_id)
            SELECT kind, idempotency_key, %(month)s, quantity, unit_code, unit_price_sek,
                amount_sek, text, '', payer_kind, payer_region_id, payer_unit_id,
                invoice_mark_id, patient_id, period_start, period_end, delivered_on,
                order_number, article_id, device_id, customer_order_id, loss_case_id,
                work_order_id, urgent_fee_id
            FROM billing_month_facts ORDER BY seq
            ON CONFLICT (idempotency_key) DO NOTHING
            """,
            {"month": month},
        )
        summary.created = cursor.rowcount
        cursor.execute("DROP TABLE billing_month_facts")
    return summary
