"""Reads of the billing floor for users."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from billing.models import ChargeEvent, ChargeKind, PayerKind
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
