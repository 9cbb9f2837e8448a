"""Reads of stock for logistics staff: a store's levels, the central store's purchase proposal
list grouped by supplier, and a unit's open replenishments (LOG-2, listed apart from customer
orders). Nothing here reads a patient."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, Q, QuerySet

from logistics.models import CustomerOrder, LocationKind, OrderKind, StockLevel
from logistics.services.purchasing import proposal_quantity
from logistics.services.state import OPEN_ORDER_STATES


def stock_levels_for_store(*, location_id: int, query: str = "") -> QuerySet[StockLevel]:
    """The store's levels with their articles, searched by article number or name."""
    levels = StockLevel.objects.filter(location_id=location_id).select_related("article")
    if query:
        levels = levels.filter(
            Q(article__article_number__istartswith=query) | Q(article__name__icontains=query)
        )
    return levels.order_by("article__article_number")


def proposal_levels() -> QuerySet[StockLevel]:
    """The central store's levels below their reorder point (available plus on order)."""
    return StockLevel.objects.filter(
        location__kind=LocationKind.CENTRAL, reorder_point__isnull=False
    ).filter(reorder_point__gt=F("available") + F("on_order"))


@dataclass(frozen=True)
class Proposal:
    level: StockLevel
    quantity: int


@dataclass(frozen=True)
class SupplierProposals:
    supplier_name: str
    proposals: list[Proposal]


def purchase_proposals(*, location_id: int) -> list[SupplierProposals]:
    """Every article of the store whose available plus on order is below its reorder point,
    with the quantity proposed, grouped by the supplier of the article's agreement. One query."""
    levels = (
        proposal_levels()
        .filter(location_id=location_id)
        .select_related("article__agreement__supplier")
        .order_by("article__agreement__supplier__name", "article__article_number")
    )
    grouped: dict[str, list[Proposal]] = {}
    for level in levels:
        grouped.setdefault(level.article.agreement.supplier.name, []).append(
            Proposal(level=level, quantity=proposal_quantity(level))
        )
    return [SupplierProposals(name, proposals) for name, proposals in grouped.items()]


def open_replenishments_for_units(*, unit_ids: set[int]) -> QuerySet[CustomerOrder]:
    """The units' open replenishments ("Öppna lagerpåfyllnader"), with their lines."""
    return (
        CustomerOrder.objects.filter(
            kind=OrderKind.REPLENISHMENT, unit_id__in=unit_ids, state__in=OPEN_ORDER_STATES
        )
        .select_related("to_location")
        .prefetch_related("lines__article")
        .order_by("promised_on", "pk")
    )
