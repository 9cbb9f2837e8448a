"""The billing floor's part of the leak crawl's world (tests/crawl_pages.py): a protected
person's patient fee on the manual-invoicing list, and a person who became protected after an
invoice to them reached finance (the move to a secret number, its review and the withdrawal),
with the finance export that carried it. The pages must show none of them (ACCESS-9)."""

from __future__ import annotations

import datetime
import hashlib
from decimal import Decimal
from typing import Any

from django.db import transaction

from billing.models import (
    ChargeEvent,
    ChargeKind,
    FinanceExport,
    Invoice,
    InvoiceKind,
    InvoiceState,
    ManualInvoiceItem,
    PayerKind,
    ProtectedAccountMove,
    Withdrawal,
)
from billing.models.charges import UnitCode
from billing.services.finance import finance_export
from billing.services.numbering import invoice_number_take
from billing.services.protected import account_protect, patient_account_get, patient_fees_route
from patients.models import Patient
from tests.billing.protected_helpers import person_invoice
from tests.factories import PatientIdentityFactory

MISSING_ID = "999999"


# Skatteverket's test number (IDENT-4), used nowhere else: the person who becomes protected.
LATER_PROTECTED_NUMBER = "195501142284"


def _rejected_credit_note(invoice: Invoice) -> Invoice:
    """A credit note of the invoice that the receiver's access point refused: its page offers
    to send it again (BILL-7), a section the crawl must see too."""
    xml = b"<CreditNote/>"
    return Invoice.objects.create(
        kind=InvoiceKind.CREDIT_NOTE,
        series="K",
        number=invoice_number_take(series="K"),
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        buyer_account=invoice.buyer_account,
        buyer_reference=invoice.buyer_reference,
        buyer_name="",
        seller_snapshot={},
        total_net_sek=-invoice.total_net_sek,
        total_vat_sek=Decimal(0),
        total_payable_sek=-invoice.total_payable_sek,
        state=InvoiceState.REJECTED,
        credited_invoice=invoice,
        credit_reason="Fel period",
        ubl_xml=xml,
        ubl_sha256=hashlib.sha256(xml).hexdigest(),
    )


@transaction.atomic
def billing_values(*, protected_number: str) -> dict[str, list[str]]:
    protected = Patient.objects.get(identity__personal_identity_number=protected_number)
    later = PatientIdentityFactory(
        personal_identity_number=LATER_PROTECTED_NUMBER,
        given_names="Senare",
        surname="Skyddadsson",
        registered_address={
            "street2": "Flyttvägen 3",
            "postal_code": "31133",
            "city": "FALKENBERG",
        },
    ).patient
    day = datetime.date(2026, 3, 10)
    ChargeEvent.objects.create(
        kind=ChargeKind.PATIENT_FEE,
        payer_kind=PayerKind.PATIENT,
        patient=protected,
        month=day.replace(day=1),
        period_start=day,
        period_end=day,
        quantity=Decimal(1),
        unit_code=UnitCode.EACH,
        unit_price_sek=Decimal("150.00"),
        amount_sek=Decimal("150.00"),
        text="Patientavgift",
        order_number="F-CRAWL001",
        idempotency_key="patientfee:crawl",
    )
    account = patient_account_get(patient_id=later.pk)
    invoice = person_invoice(account, day=day)
    _rejected_credit_note(invoice)
    finance_export(month=day.replace(day=1), today=day)
    if not later.is_protected:
        later.protected_registration = True
        later.save()
    account_protect(patient_id=later.pk)
    patient_fees_route()

    def ids(model: Any) -> list[str]:
        found = [str(pk) for pk in model.objects.order_by("pk").values_list("pk", flat=True)[:5]]
        assert found, f"the crawl's world has no {model.__name__}"
        return [*found, MISSING_ID]

    return {
        "manual_item_id": ids(ManualInvoiceItem),
        "move_id": ids(ProtectedAccountMove),
        "withdrawal_id": ids(Withdrawal),
        "export_id": ids(FinanceExport),
    }
