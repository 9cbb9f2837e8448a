"""BILL-5: invoices to patients for their patient fees (*egenavgift*), sent as a letter to the
patient's registered address through the document pipeline. Only an ordinary patient gets one:
what a protected person owes goes to the manual-invoicing list (billing.models.protected).

An issued patient invoice is a snapshot like an invoice to a region: its number, dates, lines
and total never change (database triggers), and its letter, an immutable record of the
document pipeline, is linked once. A charge is on at most one patient invoice."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from billing.models.accounts import BillingAccount
from billing.models.charges import ChargeEvent
from billing.models.invoices import _any_changed
from protection.models import DocumentJob

PATIENT_INVOICE_FROZEN_COLUMNS = (
    "account_id",
    "number",
    "issue_date",
    "due_date",
    "total_sek",
    "issued_by_id",
    "issued_at",
)


class PatientInvoice(models.Model):
    account = models.ForeignKey(
        BillingAccount,
        on_delete=models.PROTECT,
        related_name="patient_invoices",
        verbose_name=_("billing account"),
    )
    # From the patient-invoice series' locked counter (billing.services.numbering).
    number = models.PositiveIntegerField(_("number"), unique=True)
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"))
    total_sek = models.DecimalField(_("to pay (SEK)"), max_digits=14, decimal_places=2)
    # The letter with the invoice, set once, in the transaction that issues it.
    letter_job = models.OneToOneField(
        DocumentJob,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("letter"),
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("issued by"),
    )
    issued_at = models.DateTimeField(_("issued"), db_default=Now())

    class Meta:
        ordering = ["-number"]
        verbose_name = _("patient invoice")
        verbose_name_plural = _("patient invoices")
        constraints = [
            models.CheckConstraint(condition=Q(total_sek__gt=0), name="patient_invoice_positive"),
            models.CheckConstraint(
                condition=Q(due_date__gte=F("issue_date")), name="patient_invoice_due_after_issue"
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="patient_invoice_immutable",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(
                    old__letter_job_id__isnull=False,
                    old__letter_job_id__df=pgtrigger.F("new__letter_job_id"),
                )
                | _any_changed(PATIENT_INVOICE_FROZEN_COLUMNS),
            ),
            pgtrigger.Protect(name="patient_invoice_kept", operation=pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"PA{self.number}"


class PatientInvoiceLine(models.Model):
    """One patient fee on a patient invoice, as it was invoiced."""

    invoice = models.ForeignKey(
        PatientInvoice,
        on_delete=models.PROTECT,
        related_name="lines",
        verbose_name=_("patient invoice"),
    )
    charge = models.OneToOneField(
        ChargeEvent,
        on_delete=models.PROTECT,
        related_name="patient_invoice_line",
        verbose_name=_("charge"),
    )
    text = models.CharField(_("text"), max_length=200)
    order_number = models.CharField(_("order number"), max_length=32, blank=True, default="")
    day = models.DateField(_("date"))
    amount_sek = models.DecimalField(_("amount (SEK)"), max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["invoice", "pk"]
        verbose_name = _("patient invoice line")
        verbose_name_plural = _("patient invoice lines")
        triggers = [
            pgtrigger.Protect(
                name="patient_invoice_line_kept", operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}/{self.pk}"
