"""Reads of the billing floor for users."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, QuerySet, Sum

from billing.models import (
    ChargeEvent,
    ChargeKind,
    FinanceExport,
    ManualInvoiceItem,
    PayerKind,
    ProtectedAccountMove,
    Withdrawal,
)
from patients.models import Region


@dataclass(frozen=True)
class CostRow:
    label: str
    amount_sek: Decimal


@dataclass(frozen=True)
class HomeRegionCost:
    region_name: str
    rows: list[CostRow]
    total_sek: Decimal


def home_region_cost_for_patient(patient_id: int) -> list[HomeRegionCost]:
    """BILL-6: what the patient's care has cost their home region so far, in full (devices,
    rent, labour, parts and fees, corrections included), per home region charged. One query for
    the sums, one for the regions' names; empty for a patient whose own region pays."""
    sums = (
        ChargeEvent.objects.filter(patient_id=patient_id, payer_kind=PayerKind.HOME_REGION)
        .values_list("payer_region_id", "kind")
        .annotate(total=Sum("amount_sek"))
        .order_by("payer_region_id", "kind")
    )
    per_region: dict[str, list[CostRow]] = {}
    labels = dict(ChargeKind.choices)
    for region_id, kind, total in sums:
        per_region.setdefault(region_id, []).append(CostRow(str(labels[kind]), total))
    names = dict(Region.objects.filter(pk__in=per_region).values_list("pk", "name"))
    return [
        HomeRegionCost(
            region_name=names[region_id],
            rows=rows,
            total_sek=sum((row.amount_sek for row in rows), Decimal(0)),
        )
        for region_id, rows in per_region.items()
    ]


def manual_items_list(*, open_only: bool) -> QuerySet[ManualInvoiceItem]:
    """BILL-2, BILL-5: the manual-invoicing list, by secret customer number and order number
    (never a person)."""
    items = ManualInvoiceItem.objects.select_related(
        "account", "invoice", "charge", "handled_by"
    ).order_by("listed_at", "pk")
    if open_only:
        items = items.filter(handled_at__isnull=True)
    return items


def protected_moves_list() -> QuerySet[ProtectedAccountMove]:
    """BILL-3: the accounts whose holder became protected, those not yet reviewed first; each
    with its review (one query)."""
    return ProtectedAccountMove.objects.select_related("account", "review__reviewed_by").order_by(
        F("review__reviewed_at").desc(nulls_first=True), "-moved_at", "-pk"
    )


def withdrawals_list() -> QuerySet[Withdrawal]:
    """LEAK-4: invoices finance holds under an old number, to be withdrawn by hand."""
    return Withdrawal.objects.select_related("invoice", "export", "move", "withdrawn_by").order_by(
        F("withdrawn_at").desc(nulls_first=True), "listed_at", "pk"
    )


def finance_exports_list() -> QuerySet[FinanceExport]:
    # The file's bytes stay in the database until downloaded.
    return FinanceExport.objects.defer("content").select_related("created_by").order_by("-number")
