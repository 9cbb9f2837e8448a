"""Stores and what they hold: the central store (hjälpmedelscentral), units' buffer stores
(buffertförråd) and customer stores (kundlager); per article and store the physical, reserved,
backordered and on-order quantities; and the reservations behind the reserved figure (LOG-1)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from patients.models import Region, Unit
from prescriptions.models import Article, PrescriptionLine


class LocationKind(models.TextChoices):
    CENTRAL = "central", _("central store")
    BUFFER = "buffer", _("buffer store")
    CUSTOMER = "customer", _("customer store")


class StockLocation(models.Model):
    """A store. The central store belongs to the region; a buffer or customer store to a unit,
    which orders its replenishment (LOG-2)."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=LocationKind.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name=_("region"))
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stock_locations",
        verbose_name=_("unit"),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("stock location")
        verbose_name_plural = _("stock locations")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=LocationKind.CENTRAL, unit__isnull=True)
                | (~Q(kind=LocationKind.CENTRAL) & Q(unit__isnull=False)),
                name="stock_location_unit_for_unit_stores",
            )
        ]

    def __str__(self) -> str:
        return self.name


class StockLevel(models.Model):
    """One article in one store. ``reserved`` is the sum of the active reservations there,
    ``backordered`` what open order lines wait for beyond what is physically there, ``on_order``
    what purchase orders will bring. Changed only by the logistics services, each under a row
    lock of this row (house style 3); ``available`` is computed by the database."""

    article = models.ForeignKey(
        Article, on_delete=models.PROTECT, related_name="+", verbose_name=_("article")
    )
    location = models.ForeignKey(
        StockLocation, on_delete=models.PROTECT, related_name="levels", verbose_name=_("store")
    )
    physical = models.IntegerField(_("physical"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)
    backordered = models.IntegerField(_("backordered"), default=0)
    on_order = models.IntegerField(_("on order"), default=0)
    available = models.GeneratedField(
        expression=F("physical") - F("reserved") - F("backordered"),
        output_field=models.IntegerField(),
        db_persist=True,
        verbose_name=_("available"),
    )
    # Below this, the central store's purchase proposal list proposes reorder_quantity.
    reorder_point = models.IntegerField(_("reorder point"), null=True, blank=True)
    reorder_quantity = models.IntegerField(_("reorder quantity"), default=0)

    class Meta:
        ordering = ["location", "article"]
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        constraints = [
            models.UniqueConstraint(fields=["article", "location"], name="stock_level_unique"),
            models.CheckConstraint(
                condition=Q(physical__gte=0)
                & Q(reserved__gte=0)
                & Q(backordered__gte=0)
                & Q(on_order__gte=0)
                & Q(reorder_quantity__gte=0),
                name="stock_level_not_negative",
            ),
            # What is reserved is physically there: a reservation beyond it is a backorder.
            models.CheckConstraint(
                condition=Q(reserved__lte=F("physical")), name="stock_level_reserved_held"
            ),
        ]
        indexes = [
            models.Index(
                fields=["location", "article"],
                condition=Q(reorder_point__isnull=False),
                name="stock_level_reorder_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.article_id}@{self.location_id}"


class ReservationState(models.TextChoices):
    ACTIVE = "active", _("reserved")
    RELEASED = "released", _("released")
    LAPSED = "lapsed", _("lapsed")
    # Taken over by the customer order the approved prescription became.
    CONVERTED = "converted", _("moved to the order")
    # The goods left the store (picked): the reservation is spent.
    CONSUMED = "consumed", _("picked")


class Reservation(models.Model):
    """Goods held for a draft's line (LOG-1: the prescriber's cart) or a customer order's line.

    A draft's reservation lapses at ``lapses_at`` unless the draft is submitted; the prescriber
    sees it and is told when it lapsed (``lapse_notified_at``)."""

    article = models.ForeignKey(
        Article, on_delete=models.PROTECT, related_name="+", verbose_name=_("article")
    )
    location = models.ForeignKey(
        StockLocation, on_delete=models.PROTECT, related_name="+", verbose_name=_("store")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    prescription_line = models.ForeignKey(
        PrescriptionLine,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("draft line"),
    )
    order_line = models.ForeignKey(
        "logistics.CustomerOrderLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reservations",
        verbose_name=_("order line"),
    )
    # Whose cart it is (LOG-1); null for an order line reserved by the product.
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reserved by"),
    )
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=ReservationState.choices,
        default=ReservationState.ACTIVE,
    )
    created_at = models.DateTimeField(_("reserved"), db_default=Now())
    lapses_at = models.DateTimeField(_("lapses"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ended by"),
    )
    lapse_notified_at = models.DateTimeField(_("told of the lapse"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        constraints = [
            models.CheckConstraint(
                condition=Q(prescription_line__isnull=True) | Q(order_line__isnull=True),
                name="reservation_one_source",
            ),
            models.CheckConstraint(
                condition=Q(state=ReservationState.ACTIVE) | Q(ended_at__isnull=False),
                name="reservation_ended_has_when",
            ),
        ]
        indexes = [
            models.Index(
                fields=["holder", "state"],
                condition=Q(state="active"),
                name="reservation_holder_active_idx",
            ),
            models.Index(
                fields=["lapses_at"],
                condition=Q(state="active", lapses_at__isnull=False),
                name="reservation_lapse_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"reservation:{self.pk}"
