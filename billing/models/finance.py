"""The finance export (BILL-2): one file per run, recorded with its digest and totals, and the
invoices it carried, each at most once (a re-run finds nothing new and gives the same file)."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from billing.models.invoices import Invoice
from billing.models.patient_invoices import PatientInvoice


class ExportFormat(models.TextChoices):
    FIXED = "fixed", _("customer invoices, fixed width")
    SIE = "sie", _("SIE 4i vouchers")


class FinanceExport(models.Model):
    # Gapless (a locked counter): finance sees from the numbers that no file is missing.
    number = models.PositiveIntegerField(_("number"), unique=True)
    month = models.DateField(_("month"))
    format = models.CharField(_("format"), max_length=8, choices=ExportFormat.choices)
    # The file exactly as written: a re-run hands back these bytes.
    content = models.BinaryField(_("file"))
    sha256 = models.CharField(_("digest (SHA-256)"), max_length=64)
    invoice_count = models.PositiveIntegerField(_("invoices"))
    total_sek = models.DecimalField(_("total (SEK)"), max_digits=16, decimal_places=2)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("exported by"),
    )
    created_at = models.DateTimeField(_("exported"), db_default=Now())

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("finance export")
        verbose_name_plural = _("finance exports")
        triggers = [
            pgtrigger.Protect(
                name="finance_export_kept", operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]

    def __str__(self) -> str:
        return f"export:{self.pk}"


class FinanceExportInvoice(models.Model):
    export = models.ForeignKey(FinanceExport, on_delete=models.PROTECT, related_name="items")
    # One export per invoice and format: the same invoice never reaches finance twice.
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="exports")
    format = models.CharField(_("format"), max_length=8, choices=ExportFormat.choices)

    class Meta:
        ordering = ["export", "invoice"]
        verbose_name = _("exported invoice")
        verbose_name_plural = _("exported invoices")
        constraints = [
            models.UniqueConstraint(fields=["invoice", "format"], name="invoice_exported_once")
        ]
        triggers = [
            pgtrigger.Protect(
                name="finance_export_item_kept", operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]

    def __str__(self) -> str:
        return f"{self.export_id}/{self.invoice_id}"


class FinanceExportPatientInvoice(models.Model):
    """BILL-5, BILL-2: a patient invoice carried by a finance export (the patient as customer,
    by their customer number)."""

    export = models.ForeignKey(
        FinanceExport, on_delete=models.PROTECT, related_name="patient_items"
    )
    # One export per patient invoice and format, as for the invoices to regions.
    patient_invoice = models.ForeignKey(
        PatientInvoice, on_delete=models.PROTECT, related_name="exports"
    )
    format = models.CharField(_("format"), max_length=8, choices=ExportFormat.choices)

    class Meta:
        ordering = ["export", "patient_invoice"]
        verbose_name = _("exported patient invoice")
        verbose_name_plural = _("exported patient invoices")
        constraints = [
            models.UniqueConstraint(
                fields=["patient_invoice", "format"], name="patient_invoice_exported_once"
            )
        ]
        triggers = [
            pgtrigger.Protect(
                name="finance_export_patient_item_kept",
                operation=pgtrigger.Update | pgtrigger.Delete,
            )
        ]

    def __str__(self) -> str:
        return f"{self.export_id}/PA{self.patient_invoice_id}"
