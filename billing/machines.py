"""The invoice outbox's state machine (house style: patients/transitions.py). An issued invoice
waits to be sent; the transport (B4) marks it sent, then delivered or rejected. A rejected
invoice stays rejected: it is corrected by a credit note and a new invoice, never edited."""

from __future__ import annotations

from billing.models import InvoiceState, InvoiceTransition
from patients.transitions import CREATED, StateMachine

INVOICE_MACHINE = StateMachine(
    name="invoice",
    moves={
        CREATED: frozenset({InvoiceState.ISSUED}),
        InvoiceState.ISSUED: frozenset({InvoiceState.SENT, InvoiceState.REJECTED}),
        InvoiceState.SENT: frozenset({InvoiceState.DELIVERED, InvoiceState.REJECTED}),
    },
    history_model=InvoiceTransition,
    subject_field="invoice",
)
