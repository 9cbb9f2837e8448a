"""Issuing one invoice or credit note (BILL-7): a number from the locked counter, the UBL built
and validated by the official rules, and only with no fatal finding the snapshot written. The
caller runs this inside a savepoint: when the invoice is refused, the number goes back."""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from billing.errors import BillingError, RulesUnavailable
from billing.machines import INVOICE_MACHINE
from billing.models import (
    BillingAccount,
    BillingRun,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceState,
    VatCategory,
)
from billing.peppol import (
    DocumentKind,
    Finding,
    PeppolRulesUnavailable,
    UblDocument,
    UblLine,
    UblParty,
    peppol_validate,
    ubl_render,
)
from billing.seller import VAT_EXEMPTION_REASON, organisation_number_valid, seller_get
from billing.services.numbering import invoice_number_take
from billing.services.outbox import invoice_send_on_commit
from billing.services.pdf import invoice_pdf_request
from patients.transitions import transition_created


@dataclass(frozen=True)
class LineDraft:
    text: str
    description: str
    quantity: Decimal
    unit_code: str
    unit_price: Decimal
    amount: Decimal
    article_id: int | None = None
    article_number: str = ""
    period_start: datetime.date | None = None
    period_end: datetime.date | None = None
    order_number: str = ""
    credited_line_id: int | None = None


class InvoiceRefused(BillingError):
    """The official rules found fatal faults: the invoice is not issued (BILL-7)."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__(_("The e-invoice did not pass the validation; it was not issued."))
        self.findings = findings


def findings_json(findings: list[Finding]) -> list[dict[str, str]]:
    return [
        {"rule": f.rule_id, "flag": f.flag, "text": f.text, "location": f.location}
        for f in findings
    ]


def buyer_party(account: BillingAccount) -> UblParty:
    if not organisation_number_valid(account.organisation_number):
        raise BillingError(
            _(
                "Billing account %(number)s has no valid organisation number: add it under "
                "billing accounts before invoicing."
            )
            % {"number": account.customer_number}
        )
    return UblParty(
        name=account.name,
        organisation_number=account.organisation_number,
        vat_number=None,
        street=account.street,
        city=account.city,
        postal_code=account.postal_code,
        country_code="SE",
        endpoint_id=account.organisation_number,
        f_skatt=False,
        contact_name=None,
        contact_email=account.email or None,
    )


def invoice_issue(
    *,
    kind: str,
    series: str,
    account: BillingAccount,
    buyer_reference: str,
    lines: list[LineDraft],
    issue_date: datetime.date,
    period: tuple[datetime.date, datetime.date] | None = None,
    credited: Invoice | None = None,
    order_reference: str | None = None,
    run: BillingRun | None = None,
    by: Any = None,
    reason: str = "",
) -> Invoice:
    """Validate and issue; raises InvoiceRefused (fatal findings) or RulesUnavailable."""
    seller = seller_get()
    buyer = buyer_party(account)
    number = invoice_number_take(series=series)
    due_date = issue_date + datetime.timedelta(days=settings.BILLING_PAYMENT_DAYS)
    document = UblDocument(
        kind=DocumentKind.CREDIT_NOTE if kind == InvoiceKind.CREDIT_NOTE else DocumentKind.INVOICE,
        number=f"{series}{number}",
        issue_date=issue_date,
        due_date=due_date,
        currency_code="SEK",
        buyer_reference=buyer_reference,
        order_reference=order_reference,
        billing_reference_number=str(credited) if credited else None,
        billing_reference_date=credited.issue_date if credited else None,
        invoice_period_start=period[0] if period else None,
        invoice_period_end=period[1] if period else None,
        note=reason or None,
        seller=seller.party(),
        buyer=buyer,
        lines=[
            UblLine(
                line_id=str(index),
                item_name=line.text,
                description=line.description or None,
                quantity=line.quantity,
                unit_code=line.unit_code,
                unit_price=line.unit_price,
                net_amount=line.amount,
                vat_category=VatCategory.EXEMPT,
                vat_percent=Decimal(0),
                seller_item_id=line.article_number or None,
                period_start=line.period_start,
                period_end=line.period_end,
            )
            for index, line in enumerate(lines, start=1)
        ],
        bankgiro=seller.bankgiro,
        payment_terms=_("%(days)s days net") % {"days": settings.BILLING_PAYMENT_DAYS},
        vat_exemption_reason=VAT_EXEMPTION_REASON,
    )
    xml = ubl_render(document)
    try:
        result = peppol_validate(xml)
    except PeppolRulesUnavailable as error:
        raise RulesUnavailable(
            _(
                "The e-invoice rules could not be loaded, so nothing was issued. Ask operations "
                "to check the rules directory, then run the month again."
            )
        ) from error
    if result.fatal:
        raise InvoiceRefused(result.fatal)
    net = sum((line.amount for line in lines), Decimal(0))
    invoice = Invoice.objects.create(
        kind=kind,
        series=series,
        number=number,
        issue_date=issue_date,
        due_date=due_date,
        buyer_region_id=account.region_id,
        buyer_account=account,
        buyer_reference=buyer_reference,
        buyer_name=account.name,
        seller_snapshot=seller.snapshot(),
        period_start=period[0] if period else None,
        period_end=period[1] if period else None,
        total_net_sek=net,
        total_vat_sek=Decimal(0),
        total_payable_sek=net,
        state=InvoiceState.ISSUED,
        credited_invoice=credited,
        credit_reason=reason,
        ubl_xml=xml,
        ubl_sha256=hashlib.sha256(xml).hexdigest(),
        findings=findings_json(result.warnings),
        run=run,
        issued_by=by if getattr(by, "is_authenticated", False) else None,
    )
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                invoice=invoice,
                line_no=index,
                text=line.text[:200],
                description=line.description[:300],
                article_id=line.article_id,
                article_number=line.article_number,
                quantity=line.quantity,
                unit_code=line.unit_code,
                unit_price_sek=line.unit_price,
                amount_sek=line.amount,
                vat_category=VatCategory.EXEMPT,
                vat_percent=Decimal(0),
                period_start=line.period_start,
                period_end=line.period_end,
                order_number=line.order_number,
                credited_line_id=line.credited_line_id,
            )
            for index, line in enumerate(lines, start=1)
        ]
    )
    transition_created(machine=INVOICE_MACHINE, obj=invoice, by=by)
    if getattr(by, "is_authenticated", False):
        # The PDF, asked for as the officer who issued it (a document job needs a requester,
        # who may then download it); rendered by the worker once this issue commits.
        invoice.pdf_job = invoice_pdf_request(invoice_id=invoice.pk, by=by)
    # The outbox: sent by a task once the issue has committed (billing.services.outbox).
    invoice_send_on_commit(invoice.pk)
    return invoice
