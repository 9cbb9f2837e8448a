"""The invoice's PDF asked for when an invoice or credit note is issued (issue 12): one job of
the document pipeline per invoice, linked once (``Invoice.pdf_job``; the immutability trigger
refuses a second link). The render runs in the worker after the issue commits."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from billing.documents import INVOICE_PDF_KIND
from billing.models import Invoice
from patients.services import Actor
from protection.documents.services import document_request
from protection.gate import AccessContext
from protection.models import DocumentJob


@transaction.atomic
def invoice_pdf_request(*, invoice_id: int, by: Any) -> DocumentJob | None:
    """Ask for the PDF of an issued invoice as ``by`` (the officer who issued it, who may
    download it). Safe twice: an invoice that has its PDF gets no second one (None)."""
    invoice = Invoice.objects.select_for_update().only("pk", "pdf_job_id").get(pk=invoice_id)
    if invoice.pdf_job_id is not None:
        return None
    ctx = AccessContext(
        user=by,
        actor=Actor(user_id=by.pk, unit_id=None, ip_address=None, session_ref=""),
        session=None,
    )
    job = document_request(ctx=ctx, kind=INVOICE_PDF_KIND, params={"invoice_id": invoice.pk})
    Invoice.objects.filter(pk=invoice.pk, pdf_job__isnull=True).update(pdf_job=job)
    return job
