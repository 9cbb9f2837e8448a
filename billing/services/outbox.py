"""The invoice outbox (issue 12): issued invoices wait in state ``issued``; a Celery task sends
each through the transport (``billing.transport``) and moves it to ``sent``; the access point's
reports move it to ``delivered`` or ``rejected``. A rejected invoice is never edited: it is
replaced by a credit note and a new invoice (``billing.services.credits``).

A send is claimed with a conditional UPDATE (``send_claimed_at``), outside any transaction that
writes the file, so a message delivered twice sends once, and a worker lost mid-send leaves a
claim that runs out after ``SEND_CLAIM_SECONDS`` for the sweeper to send again. A failed send
keeps its error on the invoice (the outbox page shows it) until a later attempt succeeds.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.errors import BillingError
from billing.machines import INVOICE_MACHINE
from billing.models import Invoice, InvoiceKind, InvoiceState
from billing.transport import DELIVERED, InvoiceTransport, TransportError, transport_get
from patients.tasking import task_send, task_send_on_commit
from patients.transitions import transition_apply

logger = logging.getLogger(__name__)

SEND_TASK = "billing.tasks.send_invoice"
# Longer than any send can take (the task's hard time limit), so a live claim never runs out.
SEND_CLAIM_SECONDS = 600


def invoice_send_on_commit(invoice_id: int) -> None:
    """Send the invoice once the transaction that issued it has committed."""
    task_send_on_commit(SEND_TASK, invoice_id, what="invoice")


def _claimable(now: datetime.datetime) -> Q:
    expired = now - datetime.timedelta(seconds=SEND_CLAIM_SECONDS)
    return Q(state=InvoiceState.ISSUED) & (
        Q(send_claimed_at__isnull=True) | Q(send_claimed_at__lt=expired)
    )


def invoice_send(*, invoice_id: int, transport: InvoiceTransport | None = None) -> bool:
    """Send an issued invoice's UBL through the transport and mark it sent. False when it was
    not claimed (already sent, or another worker is sending it). Raises TransportError after
    recording it, so the task retries."""
    now = timezone.now()
    claimed = Invoice.objects.filter(_claimable(now), pk=invoice_id).update(
        send_claimed_at=now, send_attempts=F("send_attempts") + 1
    )
    if not claimed:
        logger.info("invoice %s not claimed (sent, or being sent)", invoice_id)
        return False
    xml = bytes(Invoice.objects.values_list("ubl_xml", flat=True).get(pk=invoice_id))
    try:
        receipt = (transport or transport_get()).send(invoice_id=invoice_id, xml=xml)
    except TransportError as error:
        # Give the claim back with the error, so the retry (or the sweeper) can send it.
        Invoice.objects.filter(pk=invoice_id, send_claimed_at=now).update(
            send_claimed_at=None, send_error=str(error)[:500]
        )
        raise
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
        transition_apply(
            machine=INVOICE_MACHINE,
            obj=invoice,
            to_state=InvoiceState.SENT,
            note=receipt.reference,
            send_claimed_at=None,
            send_error="",
            transport_reference=receipt.reference,
        )
    return True


@transaction.atomic
def credit_note_send_again(*, invoice_id: int, by: Any = None) -> Invoice:
    """A credit note the receiver rejected goes back to the outbox (``rejected`` → ``issued``)
    and is sent again, the same bytes, once the billing officer has had the cause fixed with
    the receiver (most often their access point not yet taking credit notes). It is not
    replaced as an invoice is: its lines credit the invoice's lines, which are credited once,
    and it says nothing the invoice did not (the receiver accepted that). Raises BillingError
    for anything but a rejected credit note."""
    invoice = Invoice.objects.select_for_update().filter(pk=invoice_id).first()
    if invoice is None:
        raise BillingError(_("There is no such invoice."))
    if invoice.kind != InvoiceKind.CREDIT_NOTE or invoice.state != InvoiceState.REJECTED:
        raise BillingError(
            _("%(number)s is not a rejected credit note: only those are sent again.")
            % {"number": invoice}
        )
    transition_apply(
        machine=INVOICE_MACHINE,
        obj=invoice,
        to_state=InvoiceState.ISSUED,
        by=by,
        send_claimed_at=None,
        send_error="",
    )
    invoice_send_on_commit(invoice.pk)
    return invoice


def outbox_reports_collect(*, transport: InvoiceTransport | None = None) -> dict[str, int]:
    """Record the access point's delivery reports: ``sent`` → ``delivered`` or ``rejected``
    (with the receiver's reason in the history). A report naming no sent invoice is left in the
    inbox and counted, for operations to look at."""
    transport = transport or transport_get()
    counts = {"delivered": 0, "rejected": 0, "unmatched": 0}
    for report in transport.reports():
        with transaction.atomic():
            invoice = (
                Invoice.objects.select_for_update()
                .filter(transport_reference=report.reference)
                .first()
            )
            if invoice is None:
                counts["unmatched"] += 1
                logger.warning("delivery report %s names no invoice", report.handle)
                continue
            if invoice.state in (InvoiceState.ISSUED, InvoiceState.SENT):
                if invoice.state == InvoiceState.ISSUED:
                    # The report came before our own SENT was recorded (a crash between).
                    transition_apply(
                        machine=INVOICE_MACHINE,
                        obj=invoice,
                        to_state=InvoiceState.SENT,
                        note=report.reference,
                        send_claimed_at=None,
                    )
                to_state = (
                    InvoiceState.DELIVERED if report.outcome == DELIVERED else InvoiceState.REJECTED
                )
                transition_apply(
                    machine=INVOICE_MACHINE, obj=invoice, to_state=to_state, note=report.reason
                )
                counts[str(to_state)] += 1
            # Otherwise a repeated report of what is already recorded: acknowledged, no move.
        transport.acknowledge(report)
    return counts


def outbox_sweep() -> dict[str, Any]:
    """The beat's safety net: send again what waits unclaimed (a lost message, a failed send
    whose retries ran out), and read the reports."""
    now = timezone.now()
    waiting = list(Invoice.objects.filter(_claimable(now)).values_list("pk", flat=True))
    for invoice_id in waiting:
        task_send(SEND_TASK, invoice_id, what="invoice")
    return {"sent_again": len(waiting), **outbox_reports_collect()}
