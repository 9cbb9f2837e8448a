"""Customer orders (kundorder) and replenishments of a unit's buffer store (LOG-2): lines,
states that follow from the lines and only move forward, and the urgent fee billing reads.

An approved prescription becomes a customer order numbered with the prescription's own number
(the number a prescriber, a store worker and a supplier share, LEAK-5); a replenishment gets an
"L-" number of its own.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from logistics.models.stock import StockLocation
from patients.models import Patient, random_reference
from patients.transitions import TransitionRecord
from prescriptions.models import (
    AgreementType,
    Article,
    PickupPoint,
    PrescribingUnit,
    Prescription,
    PrescriptionLine,
    Supply,
)


def new_replenishment_number() -> str:
    return random_reference("L-", 8)


class OrderKind(models.TextChoices):
    CUSTOMER = "customer", _("customer order")
    REPLENISHMENT = "replenishment", _("buffer store replenishment")


class OrderState(models.TextChoices):
    """In the order the goods move; an order's state is its least advanced open line's."""

    RECEIVED = "received", _("received")
    BACKORDERED = "backordered", _("waiting for stock")
    ALLOCATED = "allocated", _("allocated")
    PICKING = "picking", _("being picked")
    PICKED = "picked", _("picked")
    PACKED = "packed", _("packed")
    DISPATCHED = "dispatched", _("out for delivery")
    PARTLY_DELIVERED = "partly_delivered", _("partly delivered")
    DELIVERED = "delivered", _("delivered")
    CANCELLED = "cancelled", _("cancelled")


class LineState(models.TextChoices):
    RECEIVED = "received", _("received")
    BACKORDERED = "backordered", _("waiting for stock")
    ALLOCATED = "allocated", _("allocated")
    PICKING = "picking", _("on a pick wave")
    PICKED = "picked", _("picked")
    PACKED = "packed", _("packed")
    DISPATCHED = "dispatched", _("out for delivery")
    DELIVERED = "delivered", _("delivered")
    CANCELLED = "cancelled", _("cancelled")


class DestinationKind(models.TextChoices):
    UNIT = "unit", _("the prescriber's unit")
    PATIENT_ADDRESS = "patient_address", _("the patient's registered address")
    PICKUP_POINT = "pickup_point", _("pickup point")


class CustomerOrder(models.Model):
    number = models.CharField(_("order number"), max_length=12, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=OrderKind.choices)
    prescription = models.OneToOneField(
        Prescription,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("prescription"),
    )
    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("patient"),
    )
    # The prescribing unit (a customer order) or the unit whose buffer store is filled.
    unit = models.ForeignKey(
        PrescribingUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit")
    )
    # The prescriber (customer order) or the person who ordered the replenishment.
    orderer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("ordered by"),
    )
    # PRESC-2: the gate's guard when the order was made or last re-routed; the database refuses
    # any other destination than the unit with the prescriber as contact while it is set.
    patient_protected = models.BooleanField(_("protected patient"), default=False)
    destination_kind = models.CharField(
        _("delivery to"), max_length=16, choices=DestinationKind.choices
    )
    delivery_unit = models.ForeignKey(
        PrescribingUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("delivery unit"),
    )
    delivery_contact = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("delivery contact"),
    )
    pickup_point = models.ForeignKey(
        PickupPoint,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("pickup point"),
    )
    # LOG-2: the buffer store a replenishment fills.
    to_location = models.ForeignKey(
        StockLocation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("store to fill"),
    )
    # The store the goods are taken from (the central store, normally).
    from_location = models.ForeignKey(
        StockLocation, on_delete=models.PROTECT, related_name="+", verbose_name=_("store")
    )
    urgent = models.BooleanField(_("urgent"), default=False)
    # KPI-1 reports per agreement type: the unit's, when the order was made.
    agreement_type = models.CharField(
        _("agreement type"), max_length=16, choices=AgreementType.choices
    )
    # LOG-3: delivered by the supplier directly; never for a protected patient.
    supplier_direct = models.BooleanField(_("direct delivery by the supplier"), default=False)
    state = models.CharField(
        _("state"), max_length=20, choices=OrderState.choices, default=OrderState.RECEIVED
    )
    created_at = models.DateTimeField(_("created"), db_default=Now())
    # The promise (KPI-1): the latest promise of its lines, on the working-day calendar.
    promised_on = models.DateField(_("promised delivery"))
    cancelled_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)

    class Meta:
        ordering = ["promised_on", "pk"]
        verbose_name = _("customer order")
        verbose_name_plural = _("customer orders")
        permissions = [
            ("work_orders", _("Can allocate, pick, pack and deliver orders")),
            ("view_kpi", _("Can see delivery reliability")),
        ]
        indexes = [
            models.Index(fields=["state", "promised_on"], name="order_state_promise_idx"),
            models.Index(fields=["patient", "state"], name="order_patient_idx"),
            models.Index(fields=["orderer", "state"], name="order_orderer_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind=OrderKind.CUSTOMER,
                    prescription__isnull=False,
                    patient__isnull=False,
                    to_location__isnull=True,
                )
                | Q(
                    kind=OrderKind.REPLENISHMENT,
                    prescription__isnull=True,
                    patient__isnull=True,
                    to_location__isnull=False,
                    destination_kind=DestinationKind.UNIT,
                ),
                name="order_kind_fields",
            ),
            # PRESC-2 / LOG-3 / LEAK-5: a protected patient's order goes to the prescriber's unit
            # with the prescriber as contact, carries no other destination, and is never handed
            # to a supplier to deliver.
            models.CheckConstraint(
                condition=Q(patient_protected=False)
                | Q(
                    destination_kind=DestinationKind.UNIT,
                    delivery_unit=F("unit"),
                    delivery_contact=F("orderer"),
                    pickup_point__isnull=True,
                    supplier_direct=False,
                ),
                name="log_protected_order_to_unit",
            ),
            models.CheckConstraint(
                condition=~Q(destination_kind=DestinationKind.UNIT)
                | Q(delivery_unit__isnull=False, delivery_contact__isnull=False),
                name="order_unit_delivery_has_unit",
            ),
            models.CheckConstraint(
                condition=~Q(destination_kind=DestinationKind.PICKUP_POINT)
                | Q(pickup_point__isnull=False),
                name="order_pickup_point_named",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class CustomerOrderLine(models.Model):
    """A line of an order. A serial-numbered article is one line per device, so that picking
    ties exactly one device to it (DEVICE-1)."""

    order = models.ForeignKey(
        CustomerOrder, on_delete=models.PROTECT, related_name="lines", verbose_name=_("order")
    )
    position = models.PositiveSmallIntegerField(_("line"))
    article = models.ForeignKey(
        Article, on_delete=models.PROTECT, related_name="+", verbose_name=_("article")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    supply = models.CharField(_("rent or buy"), max_length=8, choices=Supply.choices)
    prescription_line = models.ForeignKey(
        PrescriptionLine,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("prescription line"),
    )
    state = models.CharField(
        _("state"), max_length=16, choices=LineState.choices, default=LineState.RECEIVED
    )
    # The assortment's promise (7 or 17 days, or next working day when urgent).
    promised_on = models.DateField(_("promised delivery"))
    delivered_on = models.DateField(_("delivered"), null=True, blank=True)
    # Set by picking: the individual device that goes out on this line.
    device = models.ForeignKey(
        "logistics.Device",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="order_lines",
        verbose_name=_("device"),
    )
    cancelled_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)

    class Meta:
        ordering = ["order", "position"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.UniqueConstraint(fields=["order", "position"], name="order_line_position"),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="order_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=~Q(state=LineState.DELIVERED) | Q(delivered_on__isnull=False),
                name="order_line_delivered_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "promised_on"], name="order_line_state_idx"),
            models.Index(fields=["article", "state"], name="order_line_article_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}:{self.position}"


class CustomerOrderTransition(TransitionRecord):
    """The order's history (house style 4), written through ``logistics.services.state``."""

    order = models.ForeignKey(CustomerOrder, on_delete=models.PROTECT, related_name="transitions")
    from_state = models.CharField(_("from"), max_length=32, choices=OrderState.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=32, choices=OrderState.choices)

    class Meta(TransitionRecord.Meta):
        verbose_name = _("order transition")
        verbose_name_plural = _("order transitions")


class OrderLineTransition(TransitionRecord):
    line = models.ForeignKey(
        CustomerOrderLine, on_delete=models.PROTECT, related_name="transitions"
    )
    from_state = models.CharField(_("from"), max_length=32, choices=LineState.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=32, choices=LineState.choices)

    class Meta(TransitionRecord.Meta):
        verbose_name = _("order line transition")
        verbose_name_plural = _("order line transitions")


class UrgentFee(models.Model):
    """An urgent order's fee, recorded when the order is made, for the billing floor to invoice
    (it reads this table; nothing here knows billing)."""

    order = models.OneToOneField(CustomerOrder, on_delete=models.PROTECT, related_name="urgent_fee")
    amount_sek = models.DecimalField(_("fee (SEK)"), max_digits=10, decimal_places=2)
    recorded_at = models.DateTimeField(_("recorded"), db_default=Now())

    class Meta:
        verbose_name = _("urgent fee")
        verbose_name_plural = _("urgent fees")
        constraints = [
            models.CheckConstraint(condition=Q(amount_sek__gte=0), name="urgent_fee_positive")
        ]

    def __str__(self) -> str:
        return f"urgent-fee:{self.order_id}"
