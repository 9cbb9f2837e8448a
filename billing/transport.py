"""The outbox's transport to a Peppol access point (issue 12): a documented interface and its
file-drop implementation.

An :class:`InvoiceTransport` is given an issued invoice's id and its UBL XML exactly as issued
and either returns a :class:`SendReceipt` (the transport's reference, which its later delivery
reports name) or raises :class:`TransportError` (the send is retried; the error stays on the
invoice). ``reports()`` yields what the access point answered since (delivered or rejected);
``acknowledge()`` tells the transport a report has been recorded, so it is not read again.

Sending the same invoice twice must be harmless for the receiver: the file-drop transport writes
under a name derived from the invoice id, so a second send replaces the first file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings

DELIVERED = "delivered"
REJECTED = "rejected"
REPORT_SUFFIXES = {".delivered": DELIVERED, ".rejected": REJECTED}
# Reports are moved here once recorded (kept, for the access point's audit trail).
DONE_DIRECTORY = "done"


class TransportError(Exception):
    """The transport could not take the invoice now (retried)."""


@dataclass(frozen=True)
class SendReceipt:
    reference: str


@dataclass(frozen=True)
class DeliveryReport:
    reference: str
    outcome: str  # DELIVERED or REJECTED
    # The receiver's reason for a rejection, as the access point gave it.
    reason: str
    handle: str  # the transport's own name for the report, for acknowledge()


class InvoiceTransport(Protocol):
    def send(self, *, invoice_id: int, xml: bytes) -> SendReceipt: ...

    def reports(self) -> Iterator[DeliveryReport]: ...

    def acknowledge(self, report: DeliveryReport) -> None: ...


def _reference(invoice_id: int) -> str:
    return f"invoice-{invoice_id}"


class FileDropTransport:
    """Writes ``invoice-<id>.xml`` into the outbox directory atomically (a temporary file in the
    same directory, flushed, then renamed), so the connector never reads half a file. The
    connector answers with ``invoice-<id>.delivered`` or ``invoice-<id>.rejected`` (the reason
    as UTF-8 text) in the inbox directory."""

    def __init__(self, outbox: Path, inbox: Path) -> None:
        self.outbox = outbox
        self.inbox = inbox

    def send(self, *, invoice_id: int, xml: bytes) -> SendReceipt:
        reference = _reference(invoice_id)
        try:
            self.outbox.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(
                dir=self.outbox, prefix=f".{reference}.", suffix=".part"
            )
            try:
                with os.fdopen(descriptor, "wb") as handle:
                    handle.write(xml)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temporary, self.outbox / f"{reference}.xml")
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as error:
            raise TransportError(
                f"could not write to the outbox directory {self.outbox}: {error.strerror}"
            ) from error
        return SendReceipt(reference=reference)

    def reports(self) -> Iterator[DeliveryReport]:
        if not self.inbox.is_dir():
            return
        for path in sorted(self.inbox.iterdir()):
            outcome = REPORT_SUFFIXES.get(path.suffix)
            if outcome is None or not path.is_file():
                continue
            reason = path.read_text(encoding="utf-8", errors="replace").strip()
            yield DeliveryReport(
                reference=path.stem, outcome=outcome, reason=reason[:500], handle=path.name
            )

    def acknowledge(self, report: DeliveryReport) -> None:
        done = self.inbox / DONE_DIRECTORY
        done.mkdir(exist_ok=True)
        os.replace(self.inbox / report.handle, done / report.handle)


def transport_get() -> InvoiceTransport:
    """The configured transport (the file drop; an access point's API client would go here)."""
    return FileDropTransport(settings.BILLING_OUTBOX_DIR, settings.BILLING_INBOX_DIR)
