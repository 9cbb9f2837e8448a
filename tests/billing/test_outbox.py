"""The invoice outbox (issue 12, BILL-7): the file-drop transport writes the issued UBL
atomically; a send is claimed so a message delivered twice sends once; a failed send stays
visible with its error and is sent again; the access point's reports move an invoice to
delivered or rejected, a rejected invoice is replaced by a credit note and a new invoice and a
rejected credit note is sent again as it is; and
``export_invoices`` writes the stored bytes of the month's documents."""

from __future__ import annotations

import datetime
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from billing.errors import BillingError
from billing.models import Invoice, InvoiceKind, InvoiceState
from billing.services.credits import credit_note_issue, rejected_invoice_replace
from billing.services.outbox import (
    credit_note_send_again,
    invoice_send,
    outbox_reports_collect,
)
from billing.services.runs import billing_run, system_context
from billing.tasks import send_invoice
from billing.transport import FileDropTransport, TransportError
from tests.billing.conftest import out_of_region
from tests.celery_worker import celery_worker_process  # noqa: F401 (a fixture, used by name)
from tests.logistics.devices_helpers import lent

FEB = datetime.date(2026, 2, 1)
WAIT_SECONDS = 90


@pytest.fixture
def drop(tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch) -> FileDropTransport:
    """The outbox and inbox directories of this test, for this process and a spawned worker."""
    outbox, inbox = tmp_path / "outbox", tmp_path / "inbox"
    settings.BILLING_OUTBOX_DIR, settings.BILLING_INBOX_DIR = outbox, inbox
    monkeypatch.setenv("BILLING_OUTBOX_DIR", str(outbox))
    monkeypatch.setenv("BILLING_INBOX_DIR", str(inbox))
    return FileDropTransport(outbox, inbox)


def _issued(billing_officer: Any) -> Invoice:
    billing_run(
        month=FEB,
        dry_run=False,
        ctx=system_context(billing_officer),
        today=datetime.date(2026, 3, 12),
    )
    return Invoice.objects.get(kind=InvoiceKind.INVOICE)


def _history(invoice: Invoice) -> list[tuple[str, str]]:
    return list(invoice.transitions.order_by("pk").values_list("from_state", "to_state"))


def test_the_file_drop_writes_atomically_and_a_second_send_replaces_the_first(
    tmp_path: Path,
) -> None:
    drop = FileDropTransport(tmp_path / "out", tmp_path / "in")
    receipt = drop.send(invoice_id=7, xml=b"<Invoice>first</Invoice>")
    again = drop.send(invoice_id=7, xml=b"<Invoice>second</Invoice>")
    assert receipt == again
    assert receipt.reference == "invoice-7"
    # One file, no temporary leftovers, the last bytes.
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["invoice-7.xml"]
    assert (tmp_path / "out" / "invoice-7.xml").read_bytes() == b"<Invoice>second</Invoice>"


def test_the_file_drop_names_the_directory_it_cannot_write(tmp_path: Path) -> None:
    blocker = tmp_path / "out"
    blocker.write_text("a file where the outbox directory should be")
    with pytest.raises(TransportError, match="outbox directory"):
        FileDropTransport(blocker, tmp_path / "in").send(invoice_id=1, xml=b"<x/>")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


@pytest.mark.django_db
def test_bill_7_an_issued_invoice_is_sent_once_with_its_stored_bytes(
    drop, lent_device, tariffs, home_account, billing_officer
):
    out_of_region(lent_device)
    invoice = _issued(billing_officer)
    assert invoice.state == InvoiceState.ISSUED
    assert invoice_send(invoice_id=invoice.pk) is True
    # A message delivered twice: the second finds nothing to claim.
    assert invoice_send(invoice_id=invoice.pk) is False
    invoice.refresh_from_db()
    assert invoice.state == InvoiceState.SENT
    assert (invoice.send_attempts, invoice.send_error) == (1, "")
    assert invoice.transport_reference == f"invoice-{invoice.pk}"
    assert (drop.outbox / f"invoice-{invoice.pk}.xml").read_bytes() == bytes(invoice.ubl_xml)
    assert _history(invoice) == [("", "issued"), ("issued", "sent")]


@pytest.mark.django_db
def test_bill_7_a_failed_send_stays_visible_with_its_error_and_is_sent_again(
    drop, lent_device, tariffs, home_account, billing_officer
):
    out_of_region(lent_device)
    invoice = _issued(billing_officer)
    drop.outbox.parent.mkdir(parents=True, exist_ok=True)
    drop.outbox.write_text("not a directory")  # the share is not mounted, say
    with pytest.raises(TransportError):
        invoice_send(invoice_id=invoice.pk)
    invoice.refresh_from_db()
    assert invoice.state == InvoiceState.ISSUED
    assert invoice.send_claimed_at is None  # given back, for the retry
    assert "outbox directory" in invoice.send_error
    drop.outbox.unlink()
    assert invoice_send(invoice_id=invoice.pk) is True
    invoice.refresh_from_db()
    assert (invoice.state, invoice.send_attempts, invoice.send_error) == ("sent", 2, "")


@pytest.mark.django_db
def test_bill_7_reports_move_invoices_to_delivered_or_rejected_and_a_rejected_one_is_replaced(
    drop, lent_device, tariffs, home_account, billing_officer
):
    out_of_region(lent_device)
    invoice = _issued(billing_officer)
    invoice_send(invoice_id=invoice.pk)
    drop.inbox.mkdir(parents=True)
    (drop.inbox / f"invoice-{invoice.pk}.rejected").write_text(
        "BR-CO-15: fel totalbelopp", encoding="utf-8"
    )
    (drop.inbox / "invoice-999999.delivered").write_text("")
    assert outbox_reports_collect() == {"delivered": 0, "rejected": 1, "unmatched": 1}
    invoice.refresh_from_db()
    assert invoice.state == InvoiceState.REJECTED
    assert invoice.transitions.get(to_state="rejected").note == "BR-CO-15: fel totalbelopp"
    # Recorded reports are moved aside; the unmatched one stays for operations to look at.
    assert sorted(p.name for p in drop.inbox.iterdir() if p.is_file()) == [
        "invoice-999999.delivered"
    ]
    assert (drop.inbox / "done" / f"invoice-{invoice.pk}.rejected").exists()
    # Never an edit: a credit note and a new invoice, both sent through the outbox.
    note, replacement = rejected_invoice_replace(invoice_id=invoice.pk, by=billing_officer)
    for document in (note, replacement):
        assert invoice_send(invoice_id=document.pk) is True
        (drop.inbox / f"invoice-{document.pk}.delivered").write_text("")
    assert outbox_reports_collect()["delivered"] == 2
    states = dict(Invoice.objects.values_list("pk", "state"))
    assert states == {invoice.pk: "rejected", note.pk: "delivered", replacement.pk: "delivered"}
    # A report read again (a connector that copied it twice) moves nothing.
    (drop.inbox / f"invoice-{note.pk}.rejected").write_text("late")
    assert outbox_reports_collect() == {"delivered": 0, "rejected": 0, "unmatched": 1}
    assert Invoice.objects.get(pk=note.pk).state == InvoiceState.DELIVERED


@pytest.mark.django_db
def test_export_invoices_writes_the_stored_bytes_of_the_months_documents(
    tmp_path, lent_device, tariffs, home_account, billing_officer
):
    out_of_region(lent_device)
    invoice = _issued(billing_officer)
    note = credit_note_issue(
        invoice_id=invoice.pk, reason="Fel period", line_numbers=[1], by=billing_officer
    )
    out = io.StringIO()
    # The billing month: the run's invoice and its credit note (issued today, same period).
    call_command(
        "export_invoices", "--month", "2026-02", "--out", str(tmp_path / "feb"), stdout=out
    )
    summary = json.loads(out.getvalue())
    assert summary["files"] == [f"{invoice}.xml", f"{note}.xml"]
    assert (summary["invoice"], summary["credit_note"]) == (1, 1)
    assert sorted(p.name for p in (tmp_path / "feb").iterdir()) == summary["files"]
    for document in (invoice, note):
        written = tmp_path / "feb" / f"{document}.xml"
        assert written.read_bytes() == bytes(document.ubl_xml)
    # Another month exports nothing; a bad month names the option and the form.
    call_command("export_invoices", "--month", "2020-01", "--out", str(tmp_path / "e2"), stdout=out)
    assert list((tmp_path / "e2").iterdir()) == []
    with pytest.raises(CommandError, match=r"--month: .*expected YYYY-MM"):
        call_command("export_invoices", "--month", "2026-13", "--out", str(tmp_path))


@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bill_7_a_real_worker_sends_the_issued_invoice_once(
    drop,
    celery_worker_process,  # noqa: F811 (the imported fixture)
    rx,
    ordinary,
    rollator,
    central,
    tariffs,
    home_account,
    billing_officer,
):
    with transaction.atomic():  # the logistics helpers expect the request's transaction
        out_of_region(lent(rx, ordinary, rollator, central))
    invoice = _issued(billing_officer)  # commits: the send goes on commit
    send_invoice.delay(invoice.pk)  # the same message again
    deadline = time.monotonic() + WAIT_SECONDS
    while Invoice.objects.get(pk=invoice.pk).state != InvoiceState.SENT:
        assert time.monotonic() < deadline, celery_worker_process.log()
        time.sleep(0.2)
    while celery_worker_process.log().count("succeeded") < 2:
        assert time.monotonic() < deadline, celery_worker_process.log()
        time.sleep(0.2)
    invoice.refresh_from_db()
    assert invoice.send_attempts == 1
    assert (drop.outbox / f"invoice-{invoice.pk}.xml").read_bytes() == bytes(invoice.ubl_xml)
    assert "not claimed" in celery_worker_process.log()


@pytest.mark.django_db
def test_bill_7_a_rejected_credit_note_is_sent_again_as_it_is(
    drop, lent_device, tariffs, home_account, billing_officer, django_capture_on_commit_callbacks
):
    out_of_region(lent_device)
    invoice = _issued(billing_officer)
    invoice_send(invoice_id=invoice.pk)
    note = credit_note_issue(invoice_id=invoice.pk, reason="Fel period", by=billing_officer)
    invoice_send(invoice_id=note.pk)
    drop.inbox.mkdir(parents=True)
    (drop.inbox / f"invoice-{invoice.pk}.delivered").write_text("")
    (drop.inbox / f"invoice-{note.pk}.rejected").write_text("Tar inte emot kreditnotor")
    assert outbox_reports_collect() == {"delivered": 1, "rejected": 1, "unmatched": 0}
    # Only a rejected credit note goes back to the outbox; an invoice is credited and replaced.
    with pytest.raises(BillingError, match="not a rejected credit note"):
        credit_note_send_again(invoice_id=invoice.pk, by=billing_officer)
    with django_capture_on_commit_callbacks() as sends:
        credit_note_send_again(invoice_id=note.pk, by=billing_officer)
    assert len(sends) == 1
    note.refresh_from_db()
    assert note.state == InvoiceState.ISSUED
    assert _history(note)[-2:] == [("sent", "rejected"), ("rejected", "issued")]
    assert note.transitions.order_by("pk").values_list("by", flat=True).last() == billing_officer.pk
    # The same credit note, the same bytes: its number and lines never change.
    (drop.outbox / f"invoice-{note.pk}.xml").unlink()  # taken by the access point the first time
    assert invoice_send(invoice_id=note.pk) is True
    assert (drop.outbox / f"invoice-{note.pk}.xml").read_bytes() == bytes(note.ubl_xml)
    (drop.inbox / f"invoice-{note.pk}.delivered").write_text("")
    assert outbox_reports_collect()["delivered"] == 1
    assert Invoice.objects.get(pk=note.pk).state == InvoiceState.DELIVERED
    with pytest.raises(BillingError, match="not a rejected credit note"):
        credit_note_send_again(invoice_id=note.pk, by=billing_officer)
