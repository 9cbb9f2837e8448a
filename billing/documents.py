"""The invoice's PDF (issue 12): an issued invoice or credit note rendered through the
document pipeline (protection/documents) as an immutable record that PRINT-3 never withdraws.

The snapshot is the issued invoice itself (seller as it was on the day, buyer, lines, totals),
formatted here: the worker renders it and nothing newer. Invoice lines name articles, periods
and order numbers (a grouped line the number of charges it sums), never a patient (BILL-2), so a
protected patient's charge shows at most its order number on the paper too; the kind concerns
no patient (Subject.NONE)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext_lazy

from billing.models import Invoice, InvoiceKind, PatientInvoice
from billing.seller import VAT_EXEMPTION_REASON, seller_get
from protection.documents import kinds
from protection.documents.letters import address_lines
from protection.models import DocumentRoute

INVOICE_PDF_KIND = "billing.invoice"
PERMISSION = "billing.view_invoice"


def _sek(value: Decimal) -> str:
    return str(number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True))


def _quantity(value: Decimal) -> str:
    # Device-days and pieces are whole; hours of labour keep their two decimals.
    return str(number_format(value.normalize() if value == value.to_integral() else value))


def invoice_snapshot(request: kinds.SnapshotRequest) -> dict[str, Any]:
    invoice = Invoice.objects.select_related("buyer_account", "credited_invoice").get(
        pk=request.params["invoice_id"]
    )
    account = invoice.buyer_account
    lines = invoice.lines.order_by("line_no")
    return {
        "invoice": {
            "number": str(invoice),
            "credit_note": invoice.kind == InvoiceKind.CREDIT_NOTE,
            "credits": str(invoice.credited_invoice) if invoice.credited_invoice else "",
            "credit_reason": invoice.credit_reason,
            "issue_date": invoice.issue_date.isoformat(),
            "due_date": invoice.due_date.isoformat(),
            "period": (
                f"{invoice.period_start.isoformat()} - {invoice.period_end.isoformat()}"
                if invoice.period_start and invoice.period_end
                else ""
            ),
            "buyer_reference": invoice.buyer_reference,
            "currency": invoice.currency,
            "net": _sek(invoice.total_net_sek),
            "vat": _sek(invoice.total_vat_sek),
            "payable": _sek(invoice.total_payable_sek),
            "vat_exemption": VAT_EXEMPTION_REASON,
        },
        "seller": dict(invoice.seller_snapshot),
        "buyer": {
            "name": invoice.buyer_name,
            "customer_number": account.customer_number,
            "organisation_number": account.organisation_number,
            "street": account.street,
            "postal_code": account.postal_code,
            "city": account.city,
        },
        "lines": [
            {
                "line": line.line_no,
                "text": line.text,
                "article": line.article_number,
                # A line grouping many charges names no order but how many it sums.
                "order": line.order_number or line.description,
                "period": (
                    f"{line.period_start.isoformat()} - {line.period_end.isoformat()}"
                    if line.period_start and line.period_end
                    else ""
                ),
                "quantity": _quantity(line.quantity),
                "unit": str(line.get_unit_code_display()),
                "price": _sek(line.unit_price_sek),
                "amount": _sek(line.amount_sek),
            }
            for line in lines
        ],
    }


INVOICE_PDF = kinds.DocumentKind(
    code=INVOICE_PDF_KIND,
    label=gettext_lazy("Invoice"),
    template="billing/documents/invoice.html",
    build_snapshot=invoice_snapshot,
    subject=kinds.Subject.NONE,
    permission=PERMISSION,
    record=True,  # an issued invoice is a record: a correction is a credit note, never PRINT-3
)


# --- BILL-5: the patient invoice, a letter to the patient ------------------------------------

PATIENT_INVOICE_KIND = "billing.patient_invoice"


def patient_invoice_snapshot(request: kinds.SnapshotRequest) -> dict[str, Any]:
    """The letter of an issued patient invoice: the region as sender, the patient's name and
    registered address, the fees, the total and how to pay. Only ever on the ordinary route:
    the kind is refused for a protected patient (PRINT-1), whose fees are invoiced by hand."""
    (subject,) = request.subjects
    if subject.route != DocumentRoute.ORDINARY or subject.patient is None:
        # The pipeline refuses the kind before this runs; never an address of a guarded person.
        raise ValueError("a patient invoice is only made on the ordinary route")
    invoice = PatientInvoice.objects.select_related("account").get(
        pk=request.params["patient_invoice_id"]
    )
    identity = subject.patient.identity
    seller = seller_get()
    return {
        "invoice": {
            "number": str(invoice),
            "customer_number": invoice.account.customer_number,
            "issue_date": invoice.issue_date.isoformat(),
            "due_date": invoice.due_date.isoformat(),
            "total": _sek(invoice.total_sek),
            "vat_exemption": VAT_EXEMPTION_REASON,
        },
        "seller": dict(seller.snapshot()),
        "name": " ".join(part for part in (identity.given_names, identity.surname) if part),
        "address": address_lines(identity.registered_address),
        "lines": [
            {
                "text": line.text,
                "order": line.order_number,
                "day": line.day.isoformat(),
                "amount": _sek(line.amount_sek),
            }
            for line in invoice.lines.order_by("pk")
        ],
    }


PATIENT_INVOICE_PDF = kinds.DocumentKind(
    code=PATIENT_INVOICE_KIND,
    label=gettext_lazy("Patient invoice"),
    template="billing/documents/patient_invoice.html",
    build_snapshot=patient_invoice_snapshot,
    subject=kinds.Subject.PATIENTS,
    permission=PERMISSION,
    record=True,  # an issued invoice is a record: a correction is a new one, never PRINT-3
    # BILL-5, LETTER-1: never an ordinary letter with an address to a protected person; their
    # fees go to the manual-invoicing list before a letter is asked for, and should one be
    # asked for anyway (or the person become protected before it is made) the pipeline refuses.
    protected_form=kinds.ProtectedForm.REFUSED,
)
