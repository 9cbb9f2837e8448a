"""Gapless invoice numbers (BILL-1, BILL-7): one counter row per series, taken under a row lock
in the caller's transaction. Never ``max()+1``: two runs at once would both read the same
maximum. The number is used only if the transaction that took it commits; a rolled-back issue
returns it with the counter's update, so the series has no holes."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from billing.models import InvoiceSeriesCounter

INVOICE_SERIES = "F"
CREDIT_NOTE_SERIES = "K"


def invoice_number_take(*, series: str) -> int:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("an invoice number is taken inside the transaction that uses it")
    InvoiceSeriesCounter.objects.get_or_create(series=series)
    counter = InvoiceSeriesCounter.objects.select_for_update().get(series=series)
    number = counter.next_number
    InvoiceSeriesCounter.objects.filter(series=series).update(next_number=F("next_number") + 1)
    return number
