"""An invoice to a person's billing account, written as an issued one would be. The monthly
run invoices home regions only (B1); an invoice to a person is what the move to a secret number
(BILL-2) and the withdrawal list (LEAK-4) act on, so the tests write one."""

from __future__ import annotations

import datetime
import hashlib
from decimal import Decimal
from typing import Any

from billing.models import (
    BillingAccount,
    ChargeEvent,
    ChargeKind,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    PayerKind,
)
from billing.models.charges import UnitCode
from billing.services.numbering import invoice_number_take


def patient_fee(
    patient: Any,
    *,
    key: str,
    amount: str = "150.00",
    order: str = "F-AVG00001",
    day: datetime.date | None = None,
) -> ChargeEvent:
    """A patient's own fee (egenavgift), as the service that charges it writes one."""
    day = day or datetime.date(2026, 3, 10)
    return ChargeEvent.objects.create(
        kind=ChargeKind.PATIENT_FEE,
        payer_kind=PayerKind.PATIENT,
        patient=patient,
        month=day.replace(day=1),
        period_start=day,
        period_end=day,
        quantity=Decimal(1),
        unit_code=UnitCode.EACH,
        unit_price_sek=Decimal(amount),
        amount_sek=Decimal(amount),
        text="Patientavgift",
        order_number=order,
        idempotency_key=key,
    )


def person_invoice(
    account: BillingAccount, *, amount: str = "300.00", day: datetime.date | None = None
) -> Invoice:
    day = day or datetime.date(2026, 3, 13)
    xml = b"<Invoice/>"
    net = Decimal(amount)
    invoice = Invoice.objects.create(
        kind=InvoiceKind.INVOICE,
        series="P",
        number=invoice_number_take(series="P"),
        issue_date=day,
        due_date=day + datetime.timedelta(days=30),
        buyer_account=account,
        buyer_reference=account.customer_number,
        buyer_name="",
        seller_snapshot={},
        total_net_sek=net,
        total_vat_sek=Decimal(0),
        total_payable_sek=net,
        ubl_xml=xml,
        ubl_sha256=hashlib.sha256(xml).hexdigest(),
    )
    InvoiceLine.objects.create(
        invoice=invoice,
        line_no=1,
        text="Patientavgift",
        quantity=Decimal(1),
        unit_code=UnitCode.EACH,
        unit_price_sek=net,
        amount_sek=net,
        order_number="F-PAT00001",
    )
    return invoice
