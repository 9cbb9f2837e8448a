"""Consumables (Sesam LMN's job): incontinence, diabetes and nutrition products prescribed as a
quantity per period, then withdrawn (*uttag*) against it.

A withdrawal is ordered as a phone order on the prescriber's behalf: a ``Prescription`` with
one line that is submitted, routed (REGION-3 for out-of-region patients) and, once approved,
released to the logistics floor by its ``OrderRelease`` row like every other order. Billing
reads the withdrawal's article, quantity, unit price and the order's ``InvoiceMark`` (payer per
the REGION rules) as a sale.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from patients.models import Patient, random_reference
from patients.transitions import TransitionRecord
from prescriptions.models.catalogue import Article
from prescriptions.models.people import PrescribingUnit
from prescriptions.models.prescription import Prescription


def new_consumable_reference() -> str:
    """The consumable prescription's number: random, so it says nothing of order or count."""
    return random_reference("L-", 8)


class ConsumablePeriod(models.IntegerChoices):
    MONTH = 1, _("per month")
    QUARTER = 3, _("per quarter")
    YEAR = 12, _("per year")


class ConsumableState(models.TextChoices):
    ACTIVE = "active", _("active")
    ENDED = "ended", _("ended")


class ConsumablePrescription(models.Model):
    reference = models.CharField(
        _("consumable prescription number"),
        max_length=12,
        unique=True,
        default=new_consumable_reference,
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="consumable_prescriptions"
    )
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="consumable_prescriptions",
        verbose_name=_("prescriber"),
    )
    unit = models.ForeignKey(PrescribingUnit, on_delete=models.PROTECT, verbose_name=_("unit"))
    article = models.ForeignKey(Article, on_delete=models.PROTECT, verbose_name=_("article"))
    quantity_per_period = models.PositiveIntegerField(_("quantity per period"))
    period_months = models.PositiveSmallIntegerField(
        _("period"), choices=ConsumablePeriod.choices, default=ConsumablePeriod.MONTH
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"))
    need = models.TextField(_("the need it meets"))
    state = models.CharField(
        _("state"), max_length=16, choices=ConsumableState.choices, default=ConsumableState.ACTIVE
    )
    created_at = models.DateTimeField(_("created"), db_default=Now())

    class Meta:
        ordering = ["-valid_from", "pk"]
        verbose_name = _("consumable prescription")
        verbose_name_plural = _("consumable prescriptions")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__gte=F("valid_from")),
                name="consumable_valid_to_after_from",
            ),
            models.CheckConstraint(
                condition=Q(quantity_per_period__gt=0), name="consumable_quantity_positive"
            ),
        ]
        indexes = [models.Index(fields=["patient", "state"], name="consumable_patient_state")]

    def __str__(self) -> str:
        return self.reference


class ConsumableTransition(TransitionRecord):
    """One recorded state change of a consumable prescription (house style 4)."""

    consumable = models.ForeignKey(
        ConsumablePrescription, on_delete=models.CASCADE, related_name="transitions"
    )

    class Meta(TransitionRecord.Meta):
        verbose_name = _("consumable prescription transition")
        verbose_name_plural = _("consumable prescription transitions")


class WithdrawalState(models.TextChoices):
    ORDERED = "ordered", _("ordered")
    CANCELLED = "cancelled", _("cancelled")


class ConsumableWithdrawal(models.Model):
    """One withdrawal (*uttag*): a quantity within what remains of its period, ordered as
    ``order``. ``article``, ``quantity`` and ``unit_price_sek`` are what the sale is billed at."""

    consumable = models.ForeignKey(
        ConsumablePrescription, on_delete=models.PROTECT, related_name="withdrawals"
    )
    order = models.OneToOneField(
        Prescription, on_delete=models.PROTECT, related_name="consumable_withdrawal"
    )
    article = models.ForeignKey(Article, on_delete=models.PROTECT, verbose_name=_("article"))
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price_sek = models.DecimalField(_("unit price (SEK)"), max_digits=12, decimal_places=2)
    period_start = models.DateField(_("period from"))
    state = models.CharField(
        _("state"), max_length=16, choices=WithdrawalState.choices, default=WithdrawalState.ORDERED
    )
    withdrawn_at = models.DateTimeField(_("withdrawn"), db_default=Now())
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("entered by"),
    )

    class Meta:
        ordering = ["-withdrawn_at", "-pk"]
        verbose_name = _("withdrawal")
        verbose_name_plural = _("withdrawals")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="withdrawal_quantity_positive")
        ]
        indexes = [
            models.Index(fields=["consumable", "state", "withdrawn_at"], name="withdrawal_period")
        ]

    def __str__(self) -> str:
        return f"{self.consumable.reference}/{self.pk}"


class WithdrawalTransition(TransitionRecord):
    """One recorded state change of a withdrawal (house style 4)."""

    withdrawal = models.ForeignKey(
        ConsumableWithdrawal, on_delete=models.CASCADE, related_name="transitions"
    )

    class Meta(TransitionRecord.Meta):
        verbose_name = _("withdrawal transition")
        verbose_name_plural = _("withdrawal transitions")
