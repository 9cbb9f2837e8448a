"""The finance export (BILL-2, LEAK-4): the month's issued invoices and credit notes as one
file for the finance system, recorded (``FinanceExport``) with its digest, totals and the
invoices it carried, so that no invoice is exported twice and a re-run hands back the same file.

Before anything is written, accounts whose holder is protected are moved to their secret number
and what such a person owes goes to the manual-invoicing list: an invoice to a protected person
never enters the file, whatever its customer number."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.errors import BillingError
from billing.finance.layout import (
    OTHER_REVENUE_ACCOUNT,
    REVENUE_ACCOUNTS,
    ExportFile,
    ExportInvoice,
    ExportLine,
    fixed_width_render,
    sie_render,
    signed,
)
from billing.models import (
    ChargeEvent,
    ChargeKind,
    ExportFormat,
    FinanceExport,
    FinanceExportInvoice,
    FinanceExportPatientInvoice,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    ManualInvoiceItem,
    ManualReason,
    PatientInvoice,
    Withdrawal,
)
from billing.months import month_end
from billing.seller import seller_get
from billing.services.numbering import invoice_number_take
from billing.services.patient_invoices import PATIENT_INVOICE_SERIES
from billing.services.protected import accounts_protect_sweep, patient_fees_route

EXPORT_SERIES = "FINEXP"
EXPORT_LOCK_KEY = int.from_bytes(b"BILLFIN", "big")
RENDERERS: dict[str, Callable[[ExportFile], bytes]] = {
    ExportFormat.FIXED: fixed_width_render,
    ExportFormat.SIE: sie_render,
}


def export_resend_check(export: FinanceExport) -> None:
    """LEAK-4: a file that holds an invoice to a person who has since become protected is never
    handed out again (it names their old customer number); it is withdrawn by hand instead.
    The holder's protection is asked of the file's invoices too: the withdrawal is listed by
    the task that moves the account, which a lost message leaves to the hourly sweep. A patient
    invoice has no withdrawal row yet: its account's secret number, or the patient's
    protection before the task has moved the account, tells instead."""
    if (
        Withdrawal.objects.filter(export=export).exists()
        or FinanceExportInvoice.objects.filter(
            export=export, invoice__buyer_account__patient__is_protected=True
        ).exists()
        or FinanceExportPatientInvoice.objects.filter(
            Q(patient_invoice__account__secret_customer_number__isnull=False)
            | Q(patient_invoice__account__patient__is_protected=True),
            export=export,
        ).exists()
    ):
        raise BillingError(
            _(
                "Finance export %(number)s holds an invoice to a person who has since become "
                "protected, so it is not handed out again. Withdraw that invoice in the finance "
                "system (see protected accounts)."
            )
            % {"number": export.number}
        )


def _line_account(line: InvoiceLine) -> str:
    """The revenue account of a line: the kind of the charges it bills (a correction counts as
    the charge it corrects; a credit note's line as the line it credits)."""
    source = line.credited_line if line.credited_line_id else line
    assert source is not None
    for charge in source.charges.all():
        kind = charge.corrects.kind if charge.corrects_id and charge.corrects else charge.kind
        return REVENUE_ACCOUNTS.get(kind, OTHER_REVENUE_ACCOUNT)
    return OTHER_REVENUE_ACCOUNT


def _export_invoice(invoice: Invoice) -> ExportInvoice:
    return ExportInvoice(
        credit=invoice.kind == InvoiceKind.CREDIT_NOTE,
        series=invoice.series,
        number=invoice.number,
        customer_number=invoice.buyer_account.customer_number,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        amount=invoice.total_payable_sek,
        currency=invoice.currency,
        buyer_reference=invoice.buyer_reference,
        credited_number=invoice.credited_invoice.number if invoice.credited_invoice else None,
        lines=tuple(
            ExportLine(
                line_no=line.line_no,
                account=_line_account(line),
                text=line.text,
                amount=line.amount_sek,
                order_number=line.order_number,
                period_start=line.period_start,
                period_end=line.period_end,
            )
            for line in invoice.lines.all()
        ),
    )


def _export_patient_invoice(invoice: PatientInvoice) -> ExportInvoice:
    """BILL-5: the patient is the customer by their customer number only; no name, address or
    personal identity number is in the record, and the lines go to the patient-fee account."""
    return ExportInvoice(
        credit=False,
        series=PATIENT_INVOICE_SERIES,
        number=invoice.number,
        customer_number=invoice.account.customer_number,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        amount=invoice.total_sek,
        currency="SEK",
        buyer_reference="",
        credited_number=None,
        lines=tuple(
            ExportLine(
                line_no=line_no,
                account=REVENUE_ACCOUNTS[ChargeKind.PATIENT_FEE],
                text=line.text,
                amount=line.amount_sek,
                order_number=line.order_number,
                period_start=line.day,
                period_end=line.day,
            )
            for line_no, line in enumerate(invoice.lines.all(), start=1)
        ),
    )


def _month_patient_invoices(month: datetime.date, export_format: str) -> list[PatientInvoice]:
    """The month's patient invoices not yet exported in this format. A protected person's never
    enter the file (BILL-2): as for invoices, one whose letter was made goes to the manual list;
    one whose letter was never made is left out, as its fees are listed by hand already."""
    candidates = (
        PatientInvoice.objects.filter(issue_date__gte=month, issue_date__lte=month_end(month))
        .exclude(exports__format=export_format)
        .select_related("account__patient", "letter_job__document")
        .prefetch_related("lines")
        .order_by("number")
    )
    exported = []
    for invoice in candidates:
        account = invoice.account
        if account.secret_customer_number or (account.patient and account.patient.is_protected):
            # The reverse one-to-one is absent (select_related cached None) when never made.
            if invoice.letter_job and hasattr(invoice.letter_job, "document"):
                ManualInvoiceItem.objects.get_or_create(
                    patient_invoice=invoice,
                    defaults={
                        "account": account,
                        "reason": ManualReason.PROTECTED_SENT,
                        "amount_sek": invoice.total_sek,
                    },
                )
            continue
        exported.append(invoice)
    return exported


def _is_protected(invoice: Invoice) -> bool:
    account = invoice.buyer_account
    return bool(account.secret_customer_number) or bool(
        account.patient_id and account.patient and account.patient.is_protected
    )


@transaction.atomic
def finance_export(
    *,
    month: datetime.date,
    export_format: str = ExportFormat.FIXED,
    by: Any = None,
    today: datetime.date | None = None,
) -> FinanceExport:
    """Export the month's invoices not yet exported in this format, as one file. With nothing
    new, the month's latest export of the format is handed back unchanged (idempotent)."""
    if month.day != 1:
        raise BillingError(_("Month: give it as YYYY-MM."))
    if export_format not in RENDERERS:
        raise BillingError(_("Format: choose fixed or sie."))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [EXPORT_LOCK_KEY])
    # BILL-2, LEAK-4: whoever is protected is moved and listed before anything is written.
    accounts_protect_sweep()
    patient_fees_route()
    candidates = list(
        Invoice.objects.filter(issue_date__gte=month, issue_date__lte=month_end(month))
        .exclude(exports__format=export_format)
        .select_related("buyer_account__patient", "credited_invoice")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=InvoiceLine.objects.order_by("line_no")
                .select_related("credited_line")
                .prefetch_related(
                    Prefetch(
                        "charges",
                        queryset=ChargeEvent.objects.order_by("pk").select_related("corrects"),
                    ),
                    Prefetch(
                        "credited_line__charges",
                        queryset=ChargeEvent.objects.order_by("pk").select_related("corrects"),
                    ),
                ),
            )
        )
        .order_by("series", "number")
    )
    invoices = []
    for invoice in candidates:
        if _is_protected(invoice):
            ManualInvoiceItem.objects.get_or_create(
                invoice=invoice,
                defaults={
                    "account": invoice.buyer_account,
                    "reason": ManualReason.PROTECTED_INVOICE,
                    "amount_sek": invoice.total_payable_sek,
                },
            )
            continue
        invoices.append(invoice)
    patient_invoices = _month_patient_invoices(month, export_format)
    if not invoices and not patient_invoices:
        latest = (
            FinanceExport.objects.filter(month=month, format=export_format)
            .order_by("-number")
            .first()
        )
        if latest is not None:
            export_resend_check(latest)
            return latest
    seller = seller_get()
    number = invoice_number_take(series=EXPORT_SERIES)
    file = ExportFile(
        export_number=number,
        seller_organisation_number=seller.organisation_number,
        seller_name=seller.name,
        file_date=today or timezone.localdate(),
        month=month,
        invoices=tuple(
            [_export_invoice(invoice) for invoice in invoices]
            + [_export_patient_invoice(invoice) for invoice in patient_invoices]
        ),
    )
    content = RENDERERS[export_format](file)
    total = sum((signed(record, record.amount) for record in file.invoices), Decimal(0))
    export = FinanceExport.objects.create(
        number=number,
        month=month,
        format=export_format,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        invoice_count=len(file.invoices),
        total_sek=total,
        created_by=by if getattr(by, "is_authenticated", False) else None,
    )
    FinanceExportInvoice.objects.bulk_create(
        [
            FinanceExportInvoice(export=export, invoice=invoice, format=export_format)
            for invoice in invoices
        ]
    )
    FinanceExportPatientInvoice.objects.bulk_create(
        [
            FinanceExportPatientInvoice(
                export=export, patient_invoice=invoice, format=export_format
            )
            for invoice in patient_invoices
        ]
    )
    return export
