"""BILL-5: patient fees (*egenavgift*) invoiced to the patient.

An ordinary patient's uninvoiced fees become one patient invoice: a number from its own locked
counter, the fees as its lines, and a letter to the patient's registered address made through
the document pipeline (an immutable record). A protected patient's fees never become a letter
with an address: they go to the manual-invoicing list first (``patient_fees_route``), to be
invoiced by hand through Skatteverket's forwarding service (LETTER-1); a patient who became
protected while this ran is refused by the pipeline and listed there too. Safe to run twice:
a fee is on one patient invoice at most (a unique link) and is looked for again only while it
has none."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.documents import PATIENT_INVOICE_KIND
from billing.errors import BillingError
from billing.models import ChargeEvent, PatientInvoice, PatientInvoiceLine, PayerKind
from billing.services.numbering import invoice_number_take
from billing.services.protected import (
    patient_account_get,
    patient_fees_list_by_hand,
    patient_fees_route,
)
from patients.models import Patient
from protection.documents.services import DocumentError, document_request
from protection.gate import AccessContext
from protection.permissions import holds_role_permission

PATIENT_INVOICE_SERIES = "PA"
RUN_PERMISSION = "billing.run_billing"


def _uninvoiced_fees() -> Any:
    return ChargeEvent.objects.filter(
        payer_kind=PayerKind.PATIENT,
        invoice_line__isnull=True,
        manual_item__isnull=True,
        patient_invoice_line__isnull=True,
    )


def _issue_one(
    *, ctx: AccessContext, patient_id: int, today: datetime.date
) -> PatientInvoice | None:
    """One patient's invoice, in the caller's savepoint. None when there is nothing to invoice
    (the fees and their corrections add up to nothing, or another run took them)."""
    account = patient_account_get(patient_id=patient_id)  # locks the patient
    patient = Patient.objects.get(pk=patient_id)
    if patient.is_protected or account.secret_customer_number:
        return None  # routed to the manual list by the caller
    # Read under the patient's lock: a second run at once waits there and then finds these
    # fees invoiced (and the unique link on each fee refuses a second invoice anyway).
    fees = list(_uninvoiced_fees().filter(patient_id=patient_id).order_by("pk"))
    total = sum((fee.amount_sek for fee in fees), Decimal(0))
    if not fees or total <= 0:
        return None
    invoice = PatientInvoice.objects.create(
        account=account,
        number=invoice_number_take(series=PATIENT_INVOICE_SERIES),
        issue_date=today,
        due_date=today + datetime.timedelta(days=settings.BILLING_PAYMENT_DAYS),
        total_sek=total,
        issued_by=ctx.user,
    )
    PatientInvoiceLine.objects.bulk_create(
        PatientInvoiceLine(
            invoice=invoice,
            charge=fee,
            text=fee.text,
            order_number=fee.order_number,
            day=fee.period_start,
            amount_sek=fee.amount_sek,
        )
        for fee in fees
    )
    job = document_request(
        ctx=ctx,
        kind=PATIENT_INVOICE_KIND,
        patients=[patient],
        params={"patient_invoice_id": invoice.pk},
    )
    PatientInvoice.objects.filter(pk=invoice.pk, letter_job__isnull=True).update(letter_job=job)
    invoice.letter_job = job
    return invoice


@transaction.atomic
def patient_invoices_issue(
    *, ctx: AccessContext, today: datetime.date | None = None
) -> list[PatientInvoice]:
    """BILL-5: invoice every patient's uninvoiced fees, one letter per ordinary patient; a
    protected patient's go to the manual-invoicing list. Returns the invoices issued."""
    if not holds_role_permission(ctx.user, RUN_PERMISSION):
        raise BillingError(_("Only billing staff can do this."))
    today = today or timezone.localdate()
    # Protected persons first, so that nothing of theirs is left for a letter.
    patient_fees_route()
    patients = set(_uninvoiced_fees().values_list("patient_id", flat=True).distinct())
    issued = []
    for patient_id in sorted(p for p in patients if p is not None):
        try:
            with transaction.atomic():
                invoice = _issue_one(ctx=ctx, patient_id=patient_id, today=today)
        except DocumentError:
            # Refused by the printing ban: the person became protected, or is guarded through
            # a protected relative (PROT-5): no letter with an address, invoiced by hand.
            patient_fees_list_by_hand(patient_id=patient_id)
            continue
        if invoice is not None:
            issued.append(invoice)
    return issued
