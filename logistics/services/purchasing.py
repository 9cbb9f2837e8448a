"""Purchasing for the stores: purchase orders made from the proposal list, and goods receipts
that put the goods in the store and register each serial as a device (DEVICE-1).

LEAK-4/LEAK-5: a purchase order carries article numbers and quantities only."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any, Final

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from logistics.gs1 import gtin_normal, gtin_valid
from logistics.models import (
    Device,
    GoodsReceipt,
    GoodsReceiptLine,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderState,
    PurchaseOrderTransition,
    StockLevel,
    StockLocation,
)
from logistics.models.purchasing import new_goods_receipt_number, new_purchase_order_number
from logistics.services.devices import device_register
from logistics.services.errors import LogisticsError
from logistics.services.stock import level_change, level_locked
from patients.transitions import CREATED, StateMachine, transition_apply, transition_created
from prescriptions.models import Article

P = PurchaseOrderState

PURCHASE_MACHINE: Final = StateMachine(
    name="purchase order",
    moves={
        CREATED: frozenset({P.ORDERED}),
        P.ORDERED: frozenset({P.PARTLY_RECEIVED, P.RECEIVED, P.CANCELLED}),
        P.PARTLY_RECEIVED: frozenset({P.RECEIVED}),
        P.RECEIVED: frozenset(),
        P.CANCELLED: frozenset(),
    },
    history_model=PurchaseOrderTransition,
    subject_field="order",
)


class ReceiptRefused(LogisticsError):
    """A receipt line refused; ``key`` names the line and ``field`` its field, for the form."""

    def __init__(self, message: str, *, key: str, field: str) -> None:
        super().__init__(message)
        self.key = key
        self.field = field


def proposal_quantity(level: StockLevel) -> int:
    """What the proposal list proposes for a level: nothing unless available plus on order is
    below the reorder point; then the reorder quantity, or enough to reach the point."""
    if level.reorder_point is None:
        return 0
    have = level.available + level.on_order
    if have >= level.reorder_point:
        return 0
    return int(max(level.reorder_quantity, level.reorder_point - have))


@transaction.atomic
def stock_reorder_set(
    *, article_id: int, location_id: int, reorder_point: int | None, reorder_quantity: int
) -> StockLevel:
    if (reorder_point is not None and reorder_point < 0) or reorder_quantity < 0:
        raise LogisticsError(_("Reorder point and quantity cannot be negative."))
    level = level_locked(article_id=article_id, location_id=location_id)
    StockLevel.objects.filter(pk=level.pk).update(
        reorder_point=reorder_point, reorder_quantity=reorder_quantity
    )
    level.refresh_from_db()
    return level


@transaction.atomic
def purchase_orders_create(
    *, quantities: dict[int, int], by: Any, location_id: int
) -> list[PurchaseOrder]:
    """Purchase orders for the chosen proposals (stock level id -> quantity), one per supplier;
    on order goes up under each level's lock. A level no longer below its point is skipped."""
    by_supplier: dict[int, list[tuple[StockLevel, int]]] = {}
    for level_id in sorted(quantities):
        quantity = quantities[level_id]
        if quantity < 1:
            raise LogisticsError(_("Quantity: order at least 1."))
        row = StockLevel.objects.filter(pk=level_id, location_id=location_id).first()
        if row is None:
            raise LogisticsError(_("The proposal is no longer on the list."))
        level = level_locked(article_id=row.article_id, location_id=location_id)
        if proposal_quantity(level) == 0:
            continue
        supplier_id = Article.objects.values_list("agreement__supplier_id", flat=True).get(
            pk=level.article_id
        )
        by_supplier.setdefault(supplier_id, []).append((level, quantity))
    orders = []
    for supplier_id, chosen in by_supplier.items():
        order = PurchaseOrder.objects.create(
            number=new_purchase_order_number(),
            supplier_id=supplier_id,
            location_id=location_id,
            created_by=by,
        )
        transition_created(machine=PURCHASE_MACHINE, obj=order, by=by)
        for level, quantity in chosen:
            PurchaseOrderLine.objects.create(
                order=order, article_id=level.article_id, quantity=quantity
            )
            level_change(level=level, on_order=quantity)
        orders.append(order)
    return orders


@dataclass(frozen=True)
class ReceiptLineInput:
    key: str
    article_id: int
    quantity: int
    serial_numbers: tuple[str, ...] = ()
    gtin: str = ""
    # The supplier's lot for the line's devices, where it gives one (DEVICE-2).
    lot_number: str = ""
    purchase_order_line_id: int | None = None
    scanned_gtins: tuple[str, ...] = field(default=())


def _check_line(line: ReceiptLineInput, article: Article, seen: set[tuple[int, str]]) -> None:
    def refuse(message: str, name: str) -> ReceiptRefused:
        return ReceiptRefused(message, key=line.key, field=name)

    number = article.article_number
    if line.quantity < 1:
        raise refuse(_("Quantity: receive at least 1."), "quantity")
    for gtin in (line.gtin, *line.scanned_gtins):
        if not gtin:
            continue
        if not gtin_valid(gtin):
            raise refuse(_("GTIN %(gtin)s has a wrong check digit.") % {"gtin": gtin}, "gtin")
        if gtin_normal(gtin) != gtin_normal(article.gtin):
            raise refuse(
                _("GTIN %(gtin)s is not the GTIN of article %(article)s.")
                % {"gtin": gtin, "article": number},
                "gtin",
            )
    if not article.serial_numbered:
        if line.serial_numbers:
            raise refuse(
                _("Article %(article)s has no serial numbers.") % {"article": number}, "serials"
            )
        return
    if len(line.serial_numbers) != line.quantity:
        raise refuse(
            _("Article %(article)s: %(count)s serial numbers for %(quantity)s units.")
            % {"article": number, "count": len(line.serial_numbers), "quantity": line.quantity},
            "serials",
        )
    for serial in line.serial_numbers:
        if (article.pk, serial) in seen:
            raise refuse(
                _("Serial number %(serial)s is given twice.") % {"serial": serial}, "serials"
            )
        seen.add((article.pk, serial))
    taken = list(
        Device.objects.filter(article=article, serial_number__in=line.serial_numbers)
        .values_list("serial_number", flat=True)
        .order_by("serial_number")
    )
    if taken:
        raise refuse(
            _("Serial number %(serial)s is already registered for article %(article)s.")
            % {"serial": taken[0], "article": number},
            "serials",
        )


@transaction.atomic
def goods_receipt_record(
    *,
    location_id: int,
    lines: list[ReceiptLineInput],
    by: Any,
    purchase_order_id: int | None = None,
    received_on: datetime.date | None = None,
) -> GoodsReceipt:
    """Take goods into a store: physical up, on order down (against a purchase order), one
    device per serial (DEVICE-1). Every check is made before anything is written; a refusal
    names the line and field (:class:`ReceiptRefused`)."""
    location = StockLocation.objects.get(pk=location_id)
    day = received_on or timezone.localdate()
    order = None
    order_lines: dict[int, PurchaseOrderLine] = {}
    if purchase_order_id is not None:
        order = PurchaseOrder.objects.select_for_update().get(pk=purchase_order_id)
        if order.location_id != location_id or order.state not in (
            P.ORDERED,
            P.PARTLY_RECEIVED,
        ):
            raise LogisticsError(
                _("Purchase order %(number)s cannot be received.") % {"number": order.number}
            )
        order_lines = {
            line.pk: line
            for line in PurchaseOrderLine.objects.select_for_update().filter(order=order)
        }
    articles = Article.objects.in_bulk([line.article_id for line in lines])
    seen: set[tuple[int, str]] = set()
    # The same purchase order line on several rows of one receipt counts once against what is
    # outstanding: each row alone may fit while their sum does not.
    taken: dict[int, int] = {}
    if not lines:
        raise LogisticsError(_("Nothing to receive: give a quantity on at least one line."))
    for line in lines:
        _check_line(line, articles[line.article_id], seen)
        if order is not None:
            po_line = order_lines.get(line.purchase_order_line_id or 0)
            if po_line is None or po_line.article_id != line.article_id:
                raise ReceiptRefused(
                    _("The line is not on the purchase order."), key=line.key, field="quantity"
                )
            left = po_line.outstanding - taken.get(po_line.pk, 0)
            if line.quantity > left:
                raise ReceiptRefused(
                    _("Article %(article)s: %(outstanding)s left to receive on the order.")
                    % {
                        "article": articles[line.article_id].article_number,
                        "outstanding": left,
                    },
                    key=line.key,
                    field="quantity",
                )
            taken[po_line.pk] = taken.get(po_line.pk, 0) + line.quantity
    receipt = GoodsReceipt.objects.create(
        number=new_goods_receipt_number(),
        location=location,
        purchase_order=order,
        received_by=by,
    )
    note = (
        _("Received on goods receipt %(receipt)s (purchase order %(order)s)")
        % {"receipt": receipt.number, "order": order.number}
        if order
        else _("Received on goods receipt %(receipt)s") % {"receipt": receipt.number}
    )
    # Levels locked in one order (by article), so two receipts never wait on each other.
    for line in sorted(lines, key=lambda item: item.article_id):
        article = articles[line.article_id]
        GoodsReceiptLine.objects.create(
            receipt=receipt,
            article=article,
            purchase_order_line_id=line.purchase_order_line_id if order else None,
            quantity=line.quantity,
            gtin=gtin_normal(line.gtin) if line.gtin else "",
            serial_numbers=list(line.serial_numbers),
        )
        level = level_locked(article_id=article.pk, location_id=location_id)
        on_order = -min(line.quantity, level.on_order) if order else 0
        level_change(level=level, physical=line.quantity, on_order=on_order)
        if order is not None and line.purchase_order_line_id is not None:
            PurchaseOrderLine.objects.filter(pk=line.purchase_order_line_id).update(
                received=F("received") + line.quantity
            )
        for serial in line.serial_numbers:
            device_register(
                article=article,
                serial_number=serial,
                location=location,
                received_on=day,
                by=by,
                gtin=gtin_normal(line.gtin) if line.gtin else "",
                lot_number=line.lot_number,
                note=note,
            )
    if order is not None:
        left = sum(
            line.quantity - line.received for line in PurchaseOrderLine.objects.filter(order=order)
        )
        target = P.RECEIVED if left == 0 else P.PARTLY_RECEIVED
        if target != order.state:
            transition_apply(machine=PURCHASE_MACHINE, obj=order, to_state=target, by=by, note=note)
    return receipt
