"""The invoice's PDF (BILL-7, BILL-2): asked for when an invoice or credit note is issued, an
immutable record of the document pipeline linked once to the invoice, rendered by the worker's
task body with real WeasyPrint and read back with pypdf: number, seller, buyer, lines and
totals. A protected patient's charge shows only its order number."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.conf import settings
from django.db import DatabaseError, transaction
from pypdf import PdfReader

from billing.documents import INVOICE_PDF_KIND
from billing.models import Invoice, InvoiceKind
from billing.services.credits import credit_note_issue
from billing.services.pdf import invoice_pdf_request
from billing.services.runs import billing_run, system_context
from protection.documents.services import DocumentError, document_job_render, document_request
from protection.models import Document, DocumentJob
from tests.billing.conftest import order_of, out_of_region
from tests.logistics.devices_helpers import lent
from tests.personas import PROTECTED_NUMBER, ctx_for

pytestmark = pytest.mark.django_db
FEB = datetime.date(2026, 2, 1)


def pdf_text(job: DocumentJob) -> str:
    assert document_job_render(job_id=job.pk) == "ready"
    content = bytes(Document.objects.get(pk=job.pk).content)
    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(content)).pages)


def squeezed(text: str) -> str:
    # pypdf splits words and the thousands separator unpredictably; compare without spaces.
    return "".join(text.split())


def issued(officer: Any) -> Invoice:
    billing_run(
        month=FEB, dry_run=False, ctx=system_context(officer), today=datetime.date(2026, 3, 12)
    )
    return Invoice.objects.get(kind=InvoiceKind.INVOICE)


def test_bill_7_an_issued_invoice_has_its_pdf_with_number_parties_lines_and_totals(
    rx, ordinary, protected_patient, rollator, central, tariffs, home_account, billing_officer
):
    ordinary_device = lent(rx, ordinary, rollator, central)
    protected_device = lent(rx, protected_patient, rollator, central)
    out_of_region(ordinary_device)
    out_of_region(protected_device)
    invoice = issued(billing_officer)
    job = invoice.pdf_job
    assert job is not None
    assert (job.kind, job.record, job.requested_by) == (INVOICE_PDF_KIND, True, billing_officer)
    text = pdf_text(job)
    flat = squeezed(text)
    assert "FakturaF1" in flat
    assert squeezed(settings.BILLING_SELLER_NAME) in flat
    assert "GodkändförF-skatt" in flat
    assert squeezed(settings.BILLING_SELLER_BANKGIRO) in flat
    assert squeezed(home_account.name) in flat
    assert home_account.organisation_number in flat
    assert home_account.default_buyer_reference in flat
    # Both devices are of one article and month: one rent line of 54 device-days at 4,50 SEK
    # (27 days each, 2 February to the month's end), 243,00, summing two charges.
    assert "121,50" not in flat
    assert "2debiteringar" in flat
    assert "54" in flat
    assert "243,00SEK" in flat
    # BILL-2: the grouped line names no order, and nothing about the protected patient.
    assert order_of(ordinary_device).number not in flat
    assert order_of(protected_device).number not in flat
    identity = protected_patient.identity
    for secret in (
        identity.given_names,
        identity.surname,
        PROTECTED_NUMBER,
        PROTECTED_NUMBER[2:8],
        str(protected_patient.birth_year),
    ):
        assert squeezed(secret) not in flat, secret


def test_bill_7_a_credit_note_has_its_own_pdf_naming_the_invoice(
    lent_device, tariffs, home_account, billing_officer
):
    out_of_region(lent_device)
    invoice = issued(billing_officer)
    note = credit_note_issue(invoice_id=invoice.pk, reason="Fel period", by=billing_officer)
    assert note.pdf_job is not None
    assert note.pdf_job != invoice.pdf_job
    flat = squeezed(pdf_text(note.pdf_job))
    assert "KreditnotaK1" in flat
    assert "F1" in flat
    assert "121,50" in flat
    # The reason the officer gave is on the paper, under its Swedish heading.
    assert squeezed("Orsak till krediteringen") in flat
    assert "Felperiod" in flat


def test_bill_7_the_pdf_is_linked_once(lent_device, tariffs, home_account, billing_officer):
    out_of_region(lent_device)
    invoice = issued(billing_officer)
    first = invoice.pdf_job
    assert invoice_pdf_request(invoice_id=invoice.pk, by=billing_officer) is None
    assert DocumentJob.objects.filter(kind=INVOICE_PDF_KIND).count() == 1
    other = document_request(
        ctx=system_context(billing_officer),
        kind=INVOICE_PDF_KIND,
        params={"invoice_id": invoice.pk},
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(pdf_job=other)
    invoice.refresh_from_db()
    assert invoice.pdf_job == first


def test_bill_7_a_role_without_billing_asks_for_no_invoice_pdf(
    rx, lent_device, tariffs, home_account, billing_officer
):
    out_of_region(lent_device)
    invoice = issued(billing_officer)
    with pytest.raises(DocumentError):
        document_request(ctx=ctx_for(rx), kind=INVOICE_PDF_KIND, params={"invoice_id": invoice.pk})
