"""Purchasing for the stores: purchase orders to the articles' agreement suppliers, goods
receipts (with the serial numbers that become devices, DEVICE-1), and the record of which
delivered replenishment lines have been put into the buffer store (LOG-2).

LEAK-4/LEAK-5: a purchase order carries article numbers and quantities only; nothing here
refers to a patient or to a customer order.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from logistics.models.orders import CustomerOrderLine
from logistics.models.stock import StockLocation
from patients.models import random_reference
from patients.transitions import TransitionRecord
from prescriptions.models import Article, Supplier


def new_purchase_order_number() -> str:
    return random_reference("I-", 8)


def new_goods_receipt_number() -> str:
    return random_reference("M-", 8)


class PurchaseOrderState(models.TextChoices):
    ORDERED = "ordered", _("ordered")
    PARTLY_RECEIVED = "partly_received", _("partly received")
    RECEIVED = "received", _("received")
    CANCELLED = "cancelled", _("cancelled")


class PurchaseOrder(models.Model):
    """An order to a supplier for one store. Its state moves through
    ``logistics.services.purchasing.PURCHASE_MACHINE`` with history."""

    number = models.CharField(_("purchase order number"), max_length=12, unique=True)
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="+", verbose_name=_("supplier")
    )
    location = models.ForeignKey(
        StockLocation,
        on_delete=models.PROTECT,
        related_name="purchase_orders",
        verbose_name=_("store"),
    )
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=PurchaseOrderState.choices,
        default=PurchaseOrderState.ORDERED,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), db_default=Now())

    class Meta:
        ordering = ["-created_at", "pk"]
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        permissions = [
            # LOG-2: given to the roles of a unit's staff (logistics/roles.py).
            ("order_replenishment", _("Can order replenishment of the unit's buffer store")),
        ]
        indexes = [models.Index(fields=["state", "location"], name="purchase_order_state_idx")]

    def __str__(self) -> str:
        return self.number


class PurchaseOrderLine(models.Model):
    order = models.ForeignKey(
        PurchaseOrder, on_delete=models.PROTECT, related_name="lines", verbose_name=_("order")
    )
    article = models.ForeignKey(
        Article, on_delete=models.PROTECT, related_name="+", verbose_name=_("article")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    received = models.PositiveIntegerField(_("received"), default=0)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("purchase order line")
        verbose_name_plural = _("purchase order lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="purchase_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(received__lte=F("quantity")), name="purchase_line_not_over_received"
            ),
            models.UniqueConstraint(fields=["order", "article"], name="purchase_line_article"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}:{self.article_id}"

    @property
    def outstanding(self) -> int:
        return self.quantity - self.received


class PurchaseOrderTransition(TransitionRecord):
    order = models.ForeignKey(PurchaseOrder, on_delete=models.PROTECT, related_name="transitions")

    class Meta(TransitionRecord.Meta):
        verbose_name = _("purchase order transition")
        verbose_name_plural = _("purchase order transitions")


class GoodsReceipt(models.Model):
    """Goods taken into a store, against a purchase order or without one. Append-only: a
    receipt is never changed (a mistake is corrected by the stock figures, not here)."""

    number = models.CharField(_("receipt number"), max_length=12, unique=True)
    location = models.ForeignKey(
        StockLocation, on_delete=models.PROTECT, related_name="+", verbose_name=_("store")
    )
    purchase_order = models.ForeignKey(
        PurchaseOrder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="receipts",
        verbose_name=_("purchase order"),
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("received by"),
    )
    received_at = models.DateTimeField(_("received"), db_default=Now())

    class Meta:
        ordering = ["-received_at", "pk"]
        verbose_name = _("goods receipt")
        verbose_name_plural = _("goods receipts")

    def __str__(self) -> str:
        return self.number


class GoodsReceiptLine(models.Model):
    receipt = models.ForeignKey(
        GoodsReceipt, on_delete=models.PROTECT, related_name="lines", verbose_name=_("receipt")
    )
    article = models.ForeignKey(
        Article, on_delete=models.PROTECT, related_name="+", verbose_name=_("article")
    )
    purchase_order_line = models.ForeignKey(
        PurchaseOrderLine,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="receipt_lines",
        verbose_name=_("purchase order line"),
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    gtin = models.CharField(_("GTIN"), max_length=14, blank=True, default="")
    # One per unit of a serial-numbered article; each became a device (DEVICE-1).
    serial_numbers = ArrayField(
        models.CharField(max_length=64), default=list, blank=True, verbose_name=_("serial numbers")
    )

    class Meta:
        ordering = ["receipt", "pk"]
        verbose_name = _("goods receipt line")
        verbose_name_plural = _("goods receipt lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="receipt_line_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.receipt_id}:{self.article_id}"


class ReplenishmentStocked(models.Model):
    """A delivered replenishment line put into its buffer store (LOG-2): one row per line, so
    that telling the store twice adds the goods once. Append-only."""

    line = models.OneToOneField(
        CustomerOrderLine,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("order line"),
    )
    location = models.ForeignKey(
        StockLocation, on_delete=models.PROTECT, related_name="+", verbose_name=_("store")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    at = models.DateTimeField(_("when"), db_default=Now())

    class Meta:
        verbose_name = _("replenishment put in store")
        verbose_name_plural = _("replenishments put in store")

    def __str__(self) -> str:
        return f"stocked:{self.line_id}"
