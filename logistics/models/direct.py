"""Direct delivery by the supplier (LOG-3, LEAK-4, LEAK-5).

Some articles are normally delivered by their supplier straight to the patient: an order made
of such articles is handed to the supplier instead of being picked in the region's store. One
:class:`DirectDelivery` per supplier of the order: the supplier is given the order number, the
articles and where they go, and the store records the supplier's confirmation of delivery.

Never for a protected patient: such an order is the region's own (the order's
``supplier_direct`` is false, by the CHECK and trigger of migration 0002), and migration 0007
refuses a direct delivery of an order whose patient the gate guards. When an ordinary patient
becomes protected, a direct delivery still with the supplier is withdrawn: the goods go through
the region's store to the unit instead, and the withdrawal stays on the store's list until
someone has told the supplier, by order number only, to stop (LEAK-4: "a task lists what must be
withdrawn by hand").
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from logistics.models.orders import CustomerOrder
from patients.transitions import TransitionRecord
from prescriptions.models import Supplier


class DirectDeliveryState(models.TextChoices):
    ORDERED = "ordered", _("ordered from the supplier")
    DELIVERED = "delivered", _("delivered by the supplier")
    WITHDRAWN = "withdrawn", _("withdrawn from the supplier")


class DirectDelivery(models.Model):
    """The part of a customer order one supplier delivers directly. Its state moves through
    ``logistics.services.direct.DIRECT_MACHINE`` with history."""

    order = models.ForeignKey(
        CustomerOrder,
        on_delete=models.PROTECT,
        related_name="direct_deliveries",
        verbose_name=_("customer order"),
    )
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="+", verbose_name=_("supplier")
    )
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=DirectDeliveryState.choices,
        default=DirectDeliveryState.ORDERED,
    )
    ordered_at = models.DateTimeField(_("ordered"), db_default=Now())
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    # As the supplier reports it; free text read by staff without a grant (checked on entry).
    received_by = models.CharField(_("received by"), max_length=200, blank=True, default="")
    # LEAK-4: the supplier has been told to stop (by order number only), and by whom.
    withdrawal_confirmed_at = models.DateTimeField(
        _("supplier told to stop"), null=True, blank=True
    )
    withdrawal_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("told by"),
    )

    class Meta:
        ordering = ["ordered_at", "pk"]
        verbose_name = _("direct delivery")
        verbose_name_plural = _("direct deliveries")
        constraints = [
            models.UniqueConstraint(fields=["order", "supplier"], name="direct_delivery_supplier"),
            models.CheckConstraint(
                condition=Q(withdrawal_confirmed_at__isnull=True) | Q(state="withdrawn"),
                name="direct_delivery_withdrawal_only_when_withdrawn",
            ),
        ]
        indexes = [models.Index(fields=["state"], name="direct_delivery_state_idx")]

    def __str__(self) -> str:
        return f"{self.order_id}:{self.supplier_id}"


class DirectDeliveryTransition(TransitionRecord):
    delivery = models.ForeignKey(
        DirectDelivery, on_delete=models.PROTECT, related_name="transitions"
    )

    class Meta(TransitionRecord.Meta):
        verbose_name = _("direct delivery transition")
        verbose_name_plural = _("direct delivery transitions")
