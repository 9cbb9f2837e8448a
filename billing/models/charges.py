"""Charge events: what is owed, derived from what happened (rent, sales, fees, labour, parts,
losses, patient fees). Append-only: a recomputed month adds only what is new (the idempotency
key), and a correction is a new event, never an edit. The one change the database lets through
is linking an uninvoiced event to the invoice line that bills it, once."""

from __future__ import annotations

import pgtrigger
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from billing.models.accounts import BillingAccount
from logistics.models import CustomerOrder, Device, LossCase, PickupLine, UrgentFee, WorkOrder
from patients.models import Patient, Region
from prescriptions.models import Article, InvoiceMark, PrescribingUnit


class ChargeKind(models.TextChoices):
    RENT = "rent", _("rent")
    SALE = "sale", _("sale")
    SALE_WITH_RETURN = "sale_with_return", _("sale with right of return")
    URGENT_FEE = "urgent_fee", _("urgent fee")
    LABOUR = "labour", _("labour")
    PARTS = "parts", _("parts")
    LOSS_DEBIT = "loss_debit", _("lost device")
    PATIENT_FEE = "patient_fee", _("patient fee")
    CORRECTION = "correction", _("correction")


class PayerKind(models.TextChoices):
    REGION = "region", _("own region")
    MUNICIPALITY = "municipality", _("municipality")
    HOME_REGION = "home_region", _("home region")
    UNIT = "unit", _("care unit")
    PATIENT = "patient", _("patient")


class UnitCode(models.TextChoices):
    # UN/ECE Recommendation 20 codes, as the e-invoice carries them.
    DAY = "DAY", _("days")
    EACH = "EA", _("pieces")
    HOUR = "HUR", _("hours")


# Every column but the invoice link: none of them may change once written.
FROZEN_COLUMNS = (
    "kind",
    "payer_kind",
    "payer_region_id",
    "payer_unit_id",
    "payer_municipality_code",
    "account_id",
    "patient_id",
    "month",
    "period_start",
    "period_end",
    "delivered_on",
    "quantity",
    "unit_code",
    "unit_price_sek",
    "amount_sek",
    "text",
    "order_number",
    "article_id",
    "device_id",
    "customer_order_id",
    "pickup_line_id",
    "loss_case_id",
    "work_order_id",
    "urgent_fee_id",
    "invoice_mark_id",
    "corrects_id",
    "idempotency_key",
    "created_at",
)


def _any_changed(columns: tuple[str, ...]) -> pgtrigger.Q:
    condition = pgtrigger.Q(**{f"old__{columns[0]}__df": pgtrigger.F(f"new__{columns[0]}")})
    for column in columns[1:]:
        condition |= pgtrigger.Q(**{f"old__{column}__df": pgtrigger.F(f"new__{column}")})
    return condition


class ChargeEvent(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=ChargeKind.choices)
    payer_kind = models.CharField(_("payer"), max_length=16, choices=PayerKind.choices)
    payer_region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("paying region"),
    )
    payer_unit = models.ForeignKey(
        PrescribingUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("paying care unit"),
    )
    payer_municipality_code = models.CharField(
        _("paying municipality"), max_length=4, blank=True, default=""
    )
    account = models.ForeignKey(
        BillingAccount,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="charges",
        verbose_name=_("billing account"),
    )
    # By internal id only; what the patient is shown as is decided where it is shown.
    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("patient"),
    )
    # The first day of the month the event belongs to.
    month = models.DateField(_("month"))
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    # REGION-6 counts from here: a claim lapses six months after the delivery.
    delivered_on = models.DateField(_("delivered"), null=True, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    unit_code = models.CharField(_("unit"), max_length=3, choices=UnitCode.choices)
    unit_price_sek = models.DecimalField(_("unit price (SEK)"), max_digits=12, decimal_places=2)
    amount_sek = models.DecimalField(_("amount (SEK)"), max_digits=14, decimal_places=2)
    # What the invoice line says: article, order number, period; never a person.
    text = models.CharField(_("text"), max_length=200)
    order_number = models.CharField(_("order number"), max_length=32, blank=True, default="")
    article = models.ForeignKey(
        Article,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("article"),
    )
    device = models.ForeignKey(
        Device,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("device"),
    )
    # The source: what happened, by the row that records it.
    customer_order = models.ForeignKey(
        CustomerOrder, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    pickup_line = models.ForeignKey(
        PickupLine, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    loss_case = models.ForeignKey(
        LossCase, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    work_order = models.ForeignKey(
        WorkOrder, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    urgent_fee = models.ForeignKey(
        UrgentFee, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    invoice_mark = models.ForeignKey(
        InvoiceMark, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A correction names the event it corrects (its amount is the difference).
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("corrects"),
    )
    # What makes recomputing a month idempotent: the same fact always yields the same key.
    idempotency_key = models.CharField(_("key"), max_length=120, unique=True)
    invoice_line = models.ForeignKey(
        "billing.InvoiceLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="charges",
        verbose_name=_("invoice line"),
    )
    created_at = models.DateTimeField(_("registered"), db_default=Now())

    class Meta:
        ordering = ["month", "pk"]
        verbose_name = _("charge")
        verbose_name_plural = _("charges")
        indexes = [
            models.Index(
                fields=["payer_region", "month"],
                condition=Q(invoice_line__isnull=True),
                name="charge_uninvoiced_idx",
            ),
            models.Index(fields=["device", "month"], name="charge_device_month_idx"),
            models.Index(fields=["patient"], name="charge_patient_idx"),
            models.Index(fields=["account"], name="charge_account_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="charge_period_ordered"
            ),
            models.CheckConstraint(
                condition=Q(payer_kind__in=["region", "home_region"], payer_region__isnull=False)
                | Q(payer_kind="unit", payer_unit__isnull=False)
                | Q(payer_kind="municipality", payer_municipality_code__regex=r"^\d{4}$")
                | Q(payer_kind="patient", patient__isnull=False),
                name="charge_payer_named",
            ),
            models.CheckConstraint(
                condition=Q(kind="correction", corrects__isnull=False)
                | (~Q(kind="correction") & Q(corrects__isnull=True)),
                name="charge_correction_names_its_event",
            ),
        ]
        triggers = [
            # Append-only: nothing but the invoice link changes, and it is set once.
            pgtrigger.Protect(
                name="charge_append_only",
                operation=pgtrigger.Update,
                condition=_any_changed(FROZEN_COLUMNS)
                | pgtrigger.Q(
                    old__invoice_line_id__isnull=False,
                    old__invoice_line_id__df=pgtrigger.F("new__invoice_line_id"),
                ),
            ),
            pgtrigger.Protect(name="charge_kept", operation=pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"charge:{self.pk}"
