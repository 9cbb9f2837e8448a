"""Charge derivation (issue 12): the month's charge events from what happened on the floors
below: rent per device and day, sales, urgent fees, labour and parts of done work orders, lost
device debits (BILL-4, valued by logistics' decision) and patient fees (REGION-5).

Recomputing a month is idempotent: every fact has a key (``rent:<order line>:<month>``, ...),
an event is written once per key, and a fact whose amount changed since (a pickup registered
late, a corrected work order) gets a correction event for the difference, which the next run
invoices or credits. Events are never changed (append-only, a database trigger)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q, Sum

from billing.models import ChargeEvent, ChargeKind, PayerKind, Tariff, TariffKind
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


def _rent_facts(month: datetime.date, tariffs: Tariffs, summary: ComputeSummary) -> list[Fact]:
    last = month_end(month)
    lines = list(
        CustomerOrderLine.objects.filter(
            supply=Supply.RENT, delivered_on__isnull=False, delivered_on__lte=last
        )
        .exclude(device__isnull=True)
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
    facts = []
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
            summary.problems.append(
                f"No rent tariff for article {line.article.article_number}: "
                f"order {line.order.number} not charged."
            )
            continue
        charged = [i for i in intervals if i.days_within(month, last)]
        facts.append(
            Fact(
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
        )
    return facts


def _sale_facts(month: datetime.date) -> list[Fact]:
    lines = CustomerOrderLine.objects.filter(
        supply=Supply.BUY, delivered_on__gte=month, delivered_on__lte=month_end(month)
    ).select_related("order__prescription__invoice_mark", "article")
    return [
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
        for line in lines.order_by("pk")
        if line.delivered_on is not None
    ]


def _urgent_facts(month: datetime.date) -> list[Fact]:
    fees = UrgentFee.objects.filter(
        recorded_at__date__gte=month, recorded_at__date__lte=month_end(month)
    ).select_related("order__prescription__invoice_mark")
    facts = []
    for fee in fees.order_by("pk"):
        day = fee.recorded_at.date()
        facts.append(
            Fact(
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
        )
    return facts


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
) -> list[Fact]:
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
    facts = []
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
                facts.append(
                    Fact(
                        key=f"labour:{work.pk}",
                        kind=ChargeKind.LABOUR,
                        quantity=hours,
                        unit_code=UnitCode.HOUR,
                        unit_price=tariffs.labour,
                        text=f"Arbete, arbetsorder {work.number}",
                        **common,
                    )
                )
        for part in parts[work.pk]:
            facts.append(
                Fact(
                    key=f"part:{part.pk}",
                    kind=ChargeKind.PARTS,
                    quantity=Decimal(part.quantity),
                    unit_code=UnitCode.EACH,
                    unit_price=part.article.price_sek,
                    text=f"Reservdel {part.article.name}",
                    article_id=part.article_id,
                    **common,
                )
            )
    return facts


def _loss_facts(month: datetime.date) -> list[Fact]:
    """BILL-4: the debit logistics' decision valued; the care unit pays (KPI-3 counts it)."""
    cases = LossCase.objects.filter(
        state=LossState.DEBITED, decided_on__gte=month, decided_on__lte=month_end(month)
    ).select_related("device__article")
    return [
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
        for case in cases.order_by("pk")
        if case.decided_on is not None and case.debit_sek is not None
    ]


def _patient_fee_facts(month: datetime.date) -> list[Fact]:
    """REGION-5 (BILL-5): a patient paying themself, as the invoice mark records the amount."""
    marks = InvoiceMark.objects.filter(
        payer=MarkPayer.PATIENT_AT_UNIT,
        created_at__date__gte=month,
        created_at__date__lte=month_end(month),
    ).select_related("prescription__episode")
    facts = []
    for mark in marks.order_by("pk"):
        day = mark.created_at.date()
        facts.append(
            Fact(
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
        )
    return facts


def _event_fields(fact: Fact, month: datetime.date) -> dict[str, Any]:
    payer = fact.payer
    return {
        "payer_kind": payer.kind,
        "payer_region_id": payer.region_id,
        "payer_unit_id": payer.unit_id,
        "invoice_mark_id": payer.invoice_mark_id,
        "patient_id": fact.patient_id or payer.patient_id,
        "month": month,
        "period_start": fact.period_start,
        "period_end": fact.period_end,
        "delivered_on": fact.delivered_on,
        "text": fact.text[:200],
        "order_number": fact.order_number,
        "article_id": fact.article_id,
        "device_id": fact.device_id,
        **fact.sources,
    }


@transaction.atomic
def charges_compute(*, month: datetime.date) -> ComputeSummary:
    """Derive the month's charge events (idempotent; see the module's text)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [COMPUTE_LOCK_KEY])
    summary = ComputeSummary()
    tariffs = Tariffs(month)
    facts = [
        *_rent_facts(month, tariffs, summary),
        *_sale_facts(month),
        *_urgent_facts(month),
        *_work_order_facts(month, tariffs, summary),
        *_loss_facts(month),
        *_patient_fee_facts(month),
    ]
    existing = {
        e.idempotency_key: e
        for e in ChargeEvent.objects.filter(idempotency_key__in=[f.key for f in facts])
    }
    recorded = dict(
        ChargeEvent.objects.filter(corrects__in=existing.values())
        .values_list("corrects_id")
        .annotate(total=Sum("amount_sek"))
    )
    counts = dict(
        ChargeEvent.objects.filter(corrects__in=existing.values())
        .values_list("corrects_id")
        .annotate(n=Count("pk"))
    )
    new_events = []
    for fact in facts:
        base = existing.get(fact.key)
        if base is None:
            new_events.append(
                ChargeEvent(
                    kind=fact.kind,
                    idempotency_key=fact.key,
                    quantity=fact.quantity,
                    unit_code=fact.unit_code,
                    unit_price_sek=fact.unit_price,
                    amount_sek=fact.amount,
                    **_event_fields(fact, month),
                )
            )
            continue
        difference = fact.amount - (base.amount_sek + recorded.get(base.pk, Decimal(0)))
        if difference == 0:
            summary.unchanged += 1
            continue
        # A change after the event was written: the difference, as a new event.
        fields = _event_fields(fact, month)
        fields["month"] = base.month
        new_events.append(
            ChargeEvent(
                kind=ChargeKind.CORRECTION,
                corrects=base,
                idempotency_key=f"{fact.key}:c{counts.get(base.pk, 0) + 1}",
                # EN 16931 BR-27: a price is never negative; a credit is a negative quantity.
                quantity=Decimal(1 if difference > 0 else -1),
                unit_code=UnitCode.EACH,
                unit_price_sek=abs(difference),
                amount_sek=difference,
                **{**fields, "text": f"Rättelse: {fact.text}"[:200]},
            )
        )
        summary.corrections += 1
    ChargeEvent.objects.bulk_create(new_events, batch_size=2000)
    summary.created = len(new_events) - summary.corrections
    return summary
