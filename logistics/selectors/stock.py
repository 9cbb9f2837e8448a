"""Reads of stock for logistics staff: a store's levels, the central store's purchase proposal
list grouped by supplier, and a unit's open replenishments (LOG-2, listed apart from customer
orders). Nothing here reads a patient."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, Q, QuerySet

from logistics.models import (
    CustomerOrder,
    CustomerOrderLine,
    Device,
    LineState,
    LocationKind,
    OrderKind,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderState,
    Reservation,
    ReservationState,
    StockLevel,
)
from logistics.services.purchasing import proposal_quantity
from logistics.services.state import OPEN_ORDER_STATES

OPEN_PURCHASE_STATES = (PurchaseOrderState.ORDERED, PurchaseOrderState.PARTLY_RECEIVED)


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


@dataclass(frozen=True)
class ArticleStock:
    """One article in one store, for the staff's stock page: no patient anywhere (the order
    lines are named by order number and unit only)."""

    level: StockLevel | None
    reservations: list[Reservation]
    order_lines: list[CustomerOrderLine]
    purchase_lines: list[PurchaseOrderLine]
    devices: list[Device]


def article_stock(*, location_id: int, article_id: int) -> ArticleStock:
    level = StockLevel.objects.filter(location_id=location_id, article_id=article_id).first()
    reservations = (
        Reservation.objects.filter(
            location_id=location_id, article_id=article_id, state=ReservationState.ACTIVE
        )
        .select_related("order_line__order")
        .only("quantity", "order_line__order__number")
        .order_by("pk")
    )
    order_lines = (
        CustomerOrderLine.objects.filter(
            order__from_location_id=location_id,
            article_id=article_id,
            state__in=[LineState.ALLOCATED, LineState.PICKING, LineState.PICKED],
        )
        .select_related("order__unit__unit")
        .only("quantity", "state", "promised_on", "order__number", "order__unit__unit__name")
        .order_by("promised_on", "pk")
    )
    purchase_lines = (
        PurchaseOrderLine.objects.filter(
            order__location_id=location_id,
            article_id=article_id,
            order__state__in=OPEN_PURCHASE_STATES,
        )
        .select_related("order")
        .order_by("order__created_at")
    )
    devices = Device.objects.filter(location_id=location_id, article_id=article_id).order_by(
        "serial_number"
    )[:200]
    return ArticleStock(
        level=level,
        reservations=list(reservations),
        order_lines=list(order_lines),
        purchase_lines=list(purchase_lines),
        devices=list(devices),
    )


def open_purchase_orders() -> QuerySet[PurchaseOrder]:
    """Purchase orders not yet fully received, oldest first, with their lines' articles."""
    return (
        PurchaseOrder.objects.filter(state__in=OPEN_PURCHASE_STATES)
        .select_related("supplier", "location")
        .prefetch_related("lines__article")
        .order_by("created_at", "pk")
    )
