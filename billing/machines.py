"""The invoice outbox's state machine (house style: patients/transitions.py). An issued invoice
waits to be sent; the transport (B4) marks it sent, then delivered or rejected. A rejected
invoice stays rejected: it is corrected by a credit note and a new invoice, never edited. A
rejected credit note goes back to the outbox once the cause is fixed with the receiver."""

from __future__ import annotations

from billing.models import InvoiceState, InvoiceTransition
from patients.transitions import CREATED, StateMachine

INVOICE_MACHINE = StateMachine(
    name="invoice",
    moves={
        CREATED: frozenset({InvoiceState.ISSUED}),
        InvoiceState.ISSUED: frozenset({InvoiceState.SENT, InvoiceState.REJECTED}),
        InvoiceState.SENT: frozenset({InvoiceState.DELIVERED, InvoiceState.REJECTED}),
        # Only a credit note takes this move (credit_note_send_again checks the kind): it
        # credits lines that cannot be credited twice, so it is sent again, never replaced.
        InvoiceState.REJECTED: frozenset({InvoiceState.ISSUED}),
    },
    history_model=InvoiceTransition,
    subject_field="invoice",
)
