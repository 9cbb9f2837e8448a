"""Protected persons on the billing floor (BILL-2, BILL-3, LEAK-4).

When an account holder becomes protected the account is given a secret customer number
(*sekretesskundnummer*) and its history is moved off the old number: a move record, append-only,
keeps the old number for the finance team's withdrawal by hand and nothing else shows it. What
was already sent to finance under the old number is listed for withdrawal (LEAK-4); what the
person owes from then on is invoiced by hand (the manual-invoicing list), never exported. BILL-3:
each move is reviewed once, by a named billing officer."""

from __future__ import annotations

from typing import Any

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from billing.models.accounts import BillingAccount
from billing.models.charges import ChargeEvent
from billing.models.invoices import Invoice


class ProtectedAccountMove(models.Model):
    account = models.OneToOneField(
        BillingAccount,
        on_delete=models.PROTECT,
        related_name="protected_move",
        verbose_name=_("billing account"),
    )
    # Kept for the finance team's withdrawal by hand; never shown on a page or in a file.
    old_customer_number = models.CharField(_("old customer number"), max_length=16)
    secret_customer_number = models.CharField(_("secret customer number"), max_length=16)
    charges_moved = models.PositiveIntegerField(_("charges moved"))
    invoices_moved = models.PositiveIntegerField(_("invoices moved"))
    moved_at = models.DateTimeField(_("moved"), db_default=Now())

    class Meta:
        ordering = ["-moved_at", "-pk"]
        verbose_name = _("move to a secret customer number")
        verbose_name_plural = _("moves to a secret customer number")
        triggers = [
            pgtrigger.Protect(
                name="protected_move_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            )
        ]

    def __str__(self) -> str:
        return self.secret_customer_number


class ProtectedAccountReview(models.Model):
    """BILL-3: a billing officer has looked at the account that became protected."""

    move = models.OneToOneField(
        ProtectedAccountMove,
        on_delete=models.PROTECT,
        related_name="review",
        verbose_name=_("move to a secret customer number"),
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed"), db_default=Now())

    class Meta:
        ordering = ["-reviewed_at"]
        verbose_name = _("review of a protected account")
        verbose_name_plural = _("reviews of protected accounts")
        triggers = [
            pgtrigger.Protect(
                name="protected_review_kept", operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]

    def __str__(self) -> str:
        return f"review:{self.move_id}"


class ManualReason(models.TextChoices):
    PROTECTED_CHARGE = "protected_charge", _("patient fee of a protected person")
    PROTECTED_INVOICE = "protected_invoice", _("invoice to a protected person")
    # The letter went to the person while they were ordinary: the debt is booked by hand, and
    # the invoice is not sent to them again (they would otherwise be billed twice).
    PROTECTED_SENT = (
        "protected_sent",
        _("patient invoice already sent by letter: book it by hand, do not send it again"),
    )


class ManualInvoiceItem(models.Model):
    """BILL-2, BILL-5: something a protected person owes, invoiced by hand (through the
    forwarding service), never through the finance export."""

    account = models.ForeignKey(
        BillingAccount,
        on_delete=models.PROTECT,
        related_name="manual_items",
        verbose_name=_("billing account"),
    )
    reason = models.CharField(_("reason"), max_length=20, choices=ManualReason.choices)
    charge = models.OneToOneField(
        ChargeEvent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="manual_item",
        verbose_name=_("charge"),
    )
    invoice = models.OneToOneField(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="manual_item",
        verbose_name=_("invoice"),
    )
    # BILL-2: a patient invoice whose letter was made while the person was ordinary, and who
    # became protected before the finance export: kept out of the file, booked by hand.
    patient_invoice = models.OneToOneField(
        "billing.PatientInvoice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="manual_item",
        verbose_name=_("patient invoice"),
    )
    amount_sek = models.DecimalField(_("amount (SEK)"), max_digits=14, decimal_places=2)
    order_number = models.CharField(_("order number"), max_length=32, blank=True, default="")
    listed_at = models.DateTimeField(_("listed"), db_default=Now())
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invoiced by hand by"),
    )
    handled_at = models.DateTimeField(_("invoiced by hand"), null=True, blank=True)

    class Meta:
        ordering = ["listed_at", "pk"]
        verbose_name = _("manual invoicing")
        verbose_name_plural = _("manual invoicing")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    charge__isnull=False, invoice__isnull=True, patient_invoice__isnull=True
                )
                | Q(charge__isnull=True, invoice__isnull=False, patient_invoice__isnull=True)
                | Q(charge__isnull=True, invoice__isnull=True, patient_invoice__isnull=False),
                name="manual_item_one_source",
            ),
            models.CheckConstraint(
                condition=Q(handled_by__isnull=True, handled_at__isnull=True)
                | Q(handled_by__isnull=False, handled_at__isnull=False),
                name="manual_item_handled_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"manual:{self.pk}"


class Withdrawal(models.Model):
    """LEAK-4: an invoice (to the region's customer, or a patient invoice) sent to finance under
    the old customer number before the holder became protected, to be withdrawn by hand in the
    finance system. Exactly one of the two is set."""

    move = models.ForeignKey(
        ProtectedAccountMove,
        on_delete=models.PROTECT,
        related_name="withdrawals",
        verbose_name=_("move to a secret customer number"),
    )
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invoice"),
    )
    patient_invoice = models.ForeignKey(
        "billing.PatientInvoice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("patient invoice"),
    )
    export = models.ForeignKey(
        "billing.FinanceExport",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("finance export"),
    )
    listed_at = models.DateTimeField(_("listed"), db_default=Now())
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("withdrawn by"),
    )
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)

    class Meta:
        ordering = ["listed_at", "pk"]
        verbose_name = _("withdrawal from finance")
        verbose_name_plural = _("withdrawals from finance")
        constraints = [
            models.UniqueConstraint(fields=["move", "invoice"], name="withdrawal_once"),
            models.UniqueConstraint(
                fields=["move", "patient_invoice"], name="withdrawal_patient_invoice_once"
            ),
            models.CheckConstraint(
                condition=Q(invoice__isnull=False, patient_invoice__isnull=True)
                | Q(invoice__isnull=True, patient_invoice__isnull=False),
                name="withdrawal_one_document",
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_by__isnull=True, withdrawn_at__isnull=True)
                | Q(withdrawn_by__isnull=False, withdrawn_at__isnull=False),
                name="withdrawal_done_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"withdrawal:{self.pk}"

    @property
    def document(self) -> Any:
        """The invoice or patient invoice to withdraw, for the page (its number)."""
        return self.invoice if self.invoice_id is not None else self.patient_invoice
