"""Invoices and credit notes to other regions (and other payers), their lines and numbering.

An issued invoice is a snapshot: its parties, lines, amounts and the UBL XML as validated
cannot change (database triggers); what changes is its place in the outbox (``state``, through
``patients.transitions``) and, once, the link to its PDF. A correction is a credit note."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from billing.models.accounts import BillingAccount
from billing.models.charges import UnitCode
from patients.models import Region
from patients.transitions import TransitionRecord
from prescriptions.models import Article
from protection.models import DocumentJob


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("invoice")
    CREDIT_NOTE = "credit_note", _("credit note")


class InvoiceState(models.TextChoices):
    ISSUED = "issued", _("issued, waiting to be sent")
    SENT = "sent", _("sent")
    DELIVERED = "delivered", _("delivered")
    REJECTED = "rejected", _("rejected by the receiver")


class VatCategory(models.TextChoices):
    # EN 16931 UNCL5305: care and assistive devices given in care are exempt.
    EXEMPT = "E", _("exempt from VAT")
    STANDARD = "S", _("standard rate")


class InvoiceSeriesCounter(models.Model):
    """The next number of a series, taken under a row lock (never ``max()+1``), in the same
    transaction as the invoice that uses it: a rolled-back issue gives the number back, so the
    series stays gapless."""

    series = models.CharField(_("series"), max_length=8, primary_key=True)
    next_number = models.PositiveIntegerField(_("next number"), default=1)

    class Meta:
        verbose_name = _("invoice series")
        verbose_name_plural = _("invoice series")
        constraints = [
            models.CheckConstraint(condition=Q(next_number__gte=1), name="series_counter_positive")
        ]

    def __str__(self) -> str:
        return self.series


INVOICE_FROZEN_COLUMNS = (
    "kind",
    "series",
    "number",
    "issue_date",
    "due_date",
    "buyer_region_id",
    "buyer_account_id",
    "buyer_reference",
    "buyer_name",
    "seller_snapshot",
    "currency",
    "period_start",
    "period_end",
    "total_net_sek",
    "total_vat_sek",
    "total_payable_sek",
    "credited_invoice_id",
    "credit_reason",
    "ubl_xml",
    "ubl_sha256",
    "findings",
    "run_id",
    "issued_by_id",
    "issued_at",
)


def _any_changed(columns: tuple[str, ...]) -> pgtrigger.Q:
    condition = pgtrigger.Q(**{f"old__{columns[0]}__df": pgtrigger.F(f"new__{columns[0]}")})
    for column in columns[1:]:
        condition |= pgtrigger.Q(**{f"old__{column}__df": pgtrigger.F(f"new__{column}")})
    return condition


class Invoice(models.Model):
    kind = models.CharField(_("kind"), max_length=12, choices=InvoiceKind.choices)
    series = models.CharField(_("series"), max_length=8)
    number = models.PositiveIntegerField(_("number"))
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"))
    buyer_region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("buyer region"),
    )
    buyer_account = models.ForeignKey(
        BillingAccount, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("buyer")
    )
    # BT-10: the home region's agreement reference, or the account's default.
    buyer_reference = models.CharField(_("buyer reference"), max_length=64)
    buyer_name = models.CharField(_("buyer"), max_length=200)
    # The seller's details as they were on the day (organisation number, F-skatt, Bankgiro).
    seller_snapshot = models.JSONField(_("seller"))
    currency = models.CharField(_("currency"), max_length=3, default="SEK")
    period_start = models.DateField(_("period from"), null=True, blank=True)
    period_end = models.DateField(_("period to"), null=True, blank=True)
    total_net_sek = models.DecimalField(_("net total (SEK)"), max_digits=14, decimal_places=2)
    total_vat_sek = models.DecimalField(_("VAT (SEK)"), max_digits=14, decimal_places=2)
    total_payable_sek = models.DecimalField(_("to pay (SEK)"), max_digits=14, decimal_places=2)
    state = models.CharField(
        _("state"), max_length=12, choices=InvoiceState.choices, default=InvoiceState.ISSUED
    )
    credited_invoice = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        verbose_name=_("credits invoice"),
    )
    # A credit note's reason as the officer gave it: part of the snapshot, in the UBL as its
    # note (BT-22) and on the PDF, so the receiver reads why it was credited.
    credit_reason = models.CharField(
        _("reason for the credit"), max_length=200, blank=True, default=""
    )
    # The UBL (Peppol BIS Billing 3.0) exactly as validated and issued.
    ubl_xml = models.BinaryField(_("e-invoice (UBL)"))
    ubl_sha256 = models.CharField(max_length=64)
    # Warnings of the validation (an issued invoice has no fatal finding).
    findings = models.JSONField(_("validation findings"), default=list)
    run = models.ForeignKey(
        "billing.BillingRun",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
        verbose_name=_("billing run"),
    )
    # The PDF, an immutable record of the document pipeline; set once.
    pdf_job = models.OneToOneField(
        DocumentJob,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("PDF"),
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
    )
    issued_at = models.DateTimeField(_("issued"), db_default=Now())
    # The outbox (billing.services.outbox), outside the frozen snapshot: a sender's claim (a
    # conditional UPDATE, so a message delivered twice sends once), the attempts, the last
    # error (visible until a send succeeds) and the transport's reference for its receipts.
    send_claimed_at = models.DateTimeField(_("sending since"), null=True, blank=True)
    send_attempts = models.PositiveIntegerField(_("send attempts"), default=0)
    send_error = models.CharField(_("last send error"), max_length=500, blank=True, default="")
    transport_reference = models.CharField(
        _("transport reference"), max_length=100, blank=True, default=""
    )

    class Meta:
        ordering = ["series", "number"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        permissions = [("run_billing", "Can run and issue the month's invoicing")]
        indexes = [
            models.Index(fields=["state", "issued_at"], name="invoice_outbox_idx"),
            models.Index(fields=["buyer_region", "issue_date"], name="invoice_region_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["series", "number"], name="invoice_number_per_series"),
            models.CheckConstraint(
                condition=Q(kind="invoice", credited_invoice__isnull=True)
                | Q(kind="credit_note", credited_invoice__isnull=False),
                name="invoice_credit_note_names_invoice",
            ),
            models.CheckConstraint(
                condition=Q(due_date__gte=F("issue_date")), name="invoice_due_after_issue"
            ),
            models.CheckConstraint(
                condition=Q(total_payable_sek=F("total_net_sek") + F("total_vat_sek")),
                name="invoice_totals_add_up",
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="invoice_immutable",
                operation=pgtrigger.Update,
                condition=_any_changed(INVOICE_FROZEN_COLUMNS)
                | pgtrigger.Q(
                    old__pdf_job_id__isnull=False,
                    old__pdf_job_id__df=pgtrigger.F("new__pdf_job_id"),
                ),
            ),
            pgtrigger.Protect(name="invoice_kept", operation=pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.series}{self.number}"


class InvoiceLine(models.Model):
    """A line as issued. Names articles, periods and order numbers; never a patient."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    line_no = models.PositiveIntegerField(_("line"))
    text = models.CharField(_("text"), max_length=200)
    description = models.CharField(_("description"), max_length=300, blank=True, default="")
    article = models.ForeignKey(
        Article,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("article"),
    )
    article_number = models.CharField(_("article number"), max_length=32, blank=True, default="")
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    unit_code = models.CharField(_("unit"), max_length=3, choices=UnitCode.choices)
    unit_price_sek = models.DecimalField(_("unit price (SEK)"), max_digits=12, decimal_places=2)
    amount_sek = models.DecimalField(_("amount (SEK)"), max_digits=14, decimal_places=2)
    vat_category = models.CharField(
        _("VAT category"), max_length=1, choices=VatCategory.choices, default=VatCategory.EXEMPT
    )
    vat_percent = models.DecimalField(_("VAT (%)"), max_digits=5, decimal_places=2, default=0)
    period_start = models.DateField(_("from"), null=True, blank=True)
    period_end = models.DateField(_("to"), null=True, blank=True)
    order_number = models.CharField(_("order number"), max_length=32, blank=True, default="")
    # On a credit note: the invoice line it credits (each line is credited at most once).
    credited_line = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credited_by",
        verbose_name=_("credits line"),
    )

    class Meta:
        ordering = ["invoice", "line_no"]
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        constraints = [
            models.UniqueConstraint(fields=["invoice", "line_no"], name="invoice_line_number"),
        ]
        triggers = [
            pgtrigger.Protect(
                name="invoice_line_immutable",
                operation=pgtrigger.Update | pgtrigger.Delete,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}/{self.line_no}"


class InvoiceTransition(TransitionRecord):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="transitions")
    from_state = models.CharField(
        _("from"), max_length=32, choices=InvoiceState.choices, blank=True
    )
    to_state = models.CharField(_("to"), max_length=32, choices=InvoiceState.choices)

    class Meta(TransitionRecord.Meta):
        verbose_name = _("invoice transition")
        verbose_name_plural = _("invoice transitions")
