"""Credit notes (BILL-7): an issued invoice is never changed; it is credited, wholly or by
lines, by a credit note of its own series that refers to it (BillingReference) and passes the
same validation. A rejected invoice is credited and issued again as a new invoice, from the
buyer's account as it is now (the receiver rejected what it said, so it is corrected there).
A rejected credit note is sent again as it is (``billing.services.outbox``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.errors import BillingError
from billing.models import Invoice, InvoiceKind, InvoiceLine, InvoiceState
from billing.services.issue import LineDraft, invoice_issue
from billing.services.numbering import CREDIT_NOTE_SERIES, INVOICE_SERIES


def _draft(line: InvoiceLine, *, credit: bool) -> LineDraft:
    return LineDraft(
        text=line.text,
        description=line.description,
        quantity=line.quantity,
        unit_code=line.unit_code,
        unit_price=line.unit_price_sek,
        amount=line.amount_sek,
        article_id=line.article_id,
        article_number=line.article_number,
        period_start=line.period_start,
        period_end=line.period_end,
        order_number=line.order_number,
        credited_line_id=line.pk if credit else None,
    )


@transaction.atomic
def credit_note_issue(
    *, invoice_id: int, reason: str, line_numbers: list[int] | None = None, by: Any = None
) -> Invoice:
    """Credit ``invoice_id`` wholly (``line_numbers`` None) or the lines named, for ``reason``
    (kept on the credit note, its UBL note and its PDF). Raises BillingError with what to do
    (no reason, a credit note, a line already credited, an unknown line), InvoiceRefused or
    RulesUnavailable (nothing issued)."""
    reason = " ".join(reason.split())
    if not reason:
        raise BillingError(_("Reason: write why the invoice is credited."))
    invoice = (
        Invoice.objects.select_for_update()
        .select_related("buyer_account")
        .filter(pk=invoice_id)
        .first()
    )
    if invoice is None:
        raise BillingError(_("There is no such invoice."))
    if invoice.kind != InvoiceKind.INVOICE:
        raise BillingError(
            _("%(number)s is a credit note: only invoices are credited.") % {"number": invoice}
        )
    lines = list(invoice.lines.order_by("line_no"))
    if line_numbers is not None:
        wanted = set(line_numbers)
        unknown = wanted - {line.line_no for line in lines}
        if unknown or not wanted:
            raise BillingError(
                _("Invoice %(number)s has no line %(lines)s.")
                % {"number": invoice, "lines": ", ".join(map(str, sorted(unknown))) or "-"}
            )
        lines = [line for line in lines if line.line_no in wanted]
    credited = set(
        InvoiceLine.objects.filter(credited_line__in=lines).values_list(
            "credited_line__line_no", flat=True
        )
    )
    if credited:
        raise BillingError(
            _("Line %(lines)s of %(number)s is already credited.")
            % {"lines": ", ".join(map(str, sorted(credited))), "number": invoice}
        )
    period = (
        (invoice.period_start, invoice.period_end)
        if invoice.period_start and invoice.period_end
        else None
    )
    return invoice_issue(
        kind=InvoiceKind.CREDIT_NOTE,
        series=CREDIT_NOTE_SERIES,
        account=invoice.buyer_account,
        buyer_reference=invoice.buyer_reference,
        lines=[_draft(line, credit=True) for line in lines],
        issue_date=timezone.localdate(),
        period=period,
        credited=invoice,
        by=by,
        reason=reason,
    )


@transaction.atomic
def rejected_invoice_replace(*, invoice_id: int, by: Any = None) -> tuple[Invoice, Invoice]:
    """A rejected invoice: a credit note for what is not yet credited and a new invoice with
    those lines, made from the buyer's account as corrected since. Never an edit of the
    rejected one. Lines an earlier credit note took stay credited by it (a line is credited
    once), so a partly credited invoice is replaced by what remains of it."""
    invoice = Invoice.objects.select_for_update().filter(pk=invoice_id).first()
    if invoice is None or invoice.state != InvoiceState.REJECTED:
        raise BillingError(_("Only a rejected invoice is replaced."))
    # Read under the invoice's lock: credit_note_issue takes the same lock, so no credit note
    # can take one of these lines between this read and the one below.
    remaining = list(invoice.lines.filter(credited_by__isnull=True).order_by("line_no"))
    if not remaining:
        raise BillingError(
            _("%(number)s is already wholly credited: nothing of it is left to issue again.")
            % {"number": invoice}
        )
    credit_note = credit_note_issue(
        invoice_id=invoice.pk,
        reason=_("Rejected by the receiver"),
        line_numbers=[line.line_no for line in remaining],
        by=by,
    )
    period = (
        (invoice.period_start, invoice.period_end)
        if invoice.period_start and invoice.period_end
        else None
    )
    replacement = invoice_issue(
        kind=InvoiceKind.INVOICE,
        series=INVOICE_SERIES,
        account=invoice.buyer_account,
        buyer_reference=invoice.buyer_reference,
        lines=[_draft(line, credit=False) for line in remaining],
        issue_date=timezone.localdate(),
        period=period,
        by=by,
    )
    return credit_note, replacement
