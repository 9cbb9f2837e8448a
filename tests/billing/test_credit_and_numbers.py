"""Credit notes and numbering (BILL-7, BILL-1): a credit note refers to the invoice and passes
the official rules; numbers are gapless per series under two concurrent runs; the command."""

from __future__ import annotations

import datetime
import io
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone, translation

from billing.errors import BillingError
from billing.machines import INVOICE_MACHINE
from billing.models import Invoice, InvoiceKind, InvoiceSeriesCounter, InvoiceState
from billing.months import months_add
from billing.peppol import peppol_validate
from billing.selectors import outbox_list
from billing.services.credits import credit_note_issue, rejected_invoice_replace
from billing.services.numbering import invoice_number_take
from billing.services.runs import billing_run, system_context
from logistics.models import CustomerOrderLine, UrgentFee
from patients.transitions import transition_apply
from tests.billing.conftest import order_of, out_of_region


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """The services' messages are asserted in English; the compiled catalogue is Swedish."""
    with translation.override("en"):
        yield


FEB = datetime.date(2026, 2, 1)


def _issued(billing_officer: Any) -> Invoice:
    billing_run(
        month=FEB,
        dry_run=False,
        ctx=system_context(billing_officer),
        today=datetime.date(2026, 3, 12),
    )
    return Invoice.objects.get(kind=InvoiceKind.INVOICE)


@pytest.mark.django_db
def test_bill_7_a_credit_note_refers_to_the_invoice_and_passes_the_rules(
    lent_device, tariffs, home_account, billing_officer
):
    out_of_region(lent_device)
    invoice = _issued(billing_officer)
    with pytest.raises(BillingError, match="write why"):
        credit_note_issue(invoice_id=invoice.pk, reason="  ", line_numbers=[1], by=billing_officer)
    note = credit_note_issue(
        invoice_id=invoice.pk, reason="Fel  period", line_numbers=[1], by=billing_officer
    )
    assert (note.kind, note.series, note.number) == (InvoiceKind.CREDIT_NOTE, "K", 1)
    # The reason is kept on the credit note and told to the receiver as the UBL note (BT-22).
    assert note.credit_reason == "Fel period"
    assert b"<cbc:Note>Fel period</cbc:Note>" in bytes(note.ubl_xml)
    assert note.credited_invoice == invoice
    assert note.total_payable_sek == invoice.total_payable_sek
    xml = bytes(note.ubl_xml)
    assert b"CreditNote" in xml
    assert b"F1" in xml  # the BillingReference to the credited invoice
    assert not peppol_validate(xml).fatal
    with pytest.raises(BillingError, match="already credited"):
        credit_note_issue(invoice_id=invoice.pk, reason="Igen", by=billing_officer)
    with pytest.raises(BillingError, match="has no line 7"):
        credit_note_issue(
            invoice_id=invoice.pk, reason="Igen", line_numbers=[7], by=billing_officer
        )


@pytest.mark.django_db
def test_bill_7_a_rejected_invoice_gets_a_credit_note_and_a_new_invoice(
    lent_device, tariffs, home_account, billing_officer
):
    out_of_region(lent_device)
    invoice = _issued(billing_officer)
    with pytest.raises(BillingError, match="Only a rejected invoice"):
        rejected_invoice_replace(invoice_id=invoice.pk, by=billing_officer)
    with transaction.atomic():
        transition_apply(machine=INVOICE_MACHINE, obj=invoice, to_state=InvoiceState.SENT)
        transition_apply(machine=INVOICE_MACHINE, obj=invoice, to_state=InvoiceState.REJECTED)
    note, replacement = rejected_invoice_replace(invoice_id=invoice.pk, by=billing_officer)
    assert (str(note), str(replacement)) == ("K1", "F2")
    assert replacement.total_payable_sek == invoice.total_payable_sek
    assert not peppol_validate(bytes(replacement.ubl_xml)).fatal
    invoice.refresh_from_db()
    assert invoice.state == InvoiceState.REJECTED


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bill_1_numbers_are_gapless_under_two_concurrent_runs():
    taken: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def take() -> None:
        try:
            barrier.wait(timeout=10)
            for _ in range(5):
                with transaction.atomic():
                    taken.append(invoice_number_take(series="T"))
        except BaseException as error:  # reported below, not swallowed
            errors.append(error)
        finally:
            # This thread's own connection, so the test database can be dropped after.
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sorted(taken) == list(range(1, 11))
    assert InvoiceSeriesCounter.objects.get(series="T").next_number == 11


@pytest.mark.django_db
def test_bill_1_a_rolled_back_issue_gives_its_number_back():
    def issue_that_fails() -> None:
        with transaction.atomic():
            assert invoice_number_take(series="G") == 1
            raise RuntimeError

    with pytest.raises(RuntimeError):
        issue_that_fails()
    with transaction.atomic():
        assert invoice_number_take(series="G") == 1


@pytest.mark.django_db
def test_bill_1_the_command_prints_a_json_summary_and_is_idempotent(
    lent_device, tariffs, home_account, billing_officer
):
    out_of_region(lent_device)
    # The command runs as of today: last month's delivery, well within REGION-6's six months.
    month = months_add(timezone.localdate().replace(day=1), -1)
    CustomerOrderLine.objects.filter(device=lent_device).update(delivered_on=month)
    out = io.StringIO()
    call_command("billing_run", "--month", f"{month:%Y-%m}", "--dry-run", stdout=out)
    preview = json.loads(out.getvalue())
    assert preview["dry_run"] is True
    assert len(preview["invoices"]) == 1
    assert not Invoice.objects.exists()
    for expected in (1, 0):
        out = io.StringIO()
        call_command("billing_run", "--month", f"{month:%Y-%m}", stdout=out)
        assert len(json.loads(out.getvalue())["invoices"]) == expected
    assert Invoice.objects.count() == 1


@pytest.mark.django_db
def test_bill_7_a_partly_credited_rejected_invoice_is_replaced_by_what_remains(
    lent_device, tariffs, home_account, billing_officer
):
    out_of_region(lent_device)
    # An urgent fee in February: the invoice has two lines, the rent and the fee.
    fee = UrgentFee.objects.create(order=order_of(lent_device), amount_sek=Decimal("500.00"))
    UrgentFee.objects.filter(pk=fee.pk).update(
        recorded_at=datetime.datetime(2026, 2, 3, 10, tzinfo=datetime.UTC)
    )
    invoice = _issued(billing_officer)
    _first, second = invoice.lines.order_by("line_no")
    credit_note_issue(
        invoice_id=invoice.pk, reason="Fel hjälpmedel", line_numbers=[1], by=billing_officer
    )
    with transaction.atomic():
        transition_apply(machine=INVOICE_MACHINE, obj=invoice, to_state=InvoiceState.SENT)
        transition_apply(machine=INVOICE_MACHINE, obj=invoice, to_state=InvoiceState.REJECTED)
    # Still to be replaced: a line of it is not credited.
    assert outbox_list(state=InvoiceState.REJECTED).get(pk=invoice.pk).to_replace
    note, replacement = rejected_invoice_replace(invoice_id=invoice.pk, by=billing_officer)
    assert (str(note), str(replacement)) == ("K2", "F2")
    # The credit note takes only the line left; the new invoice asks for only that line.
    assert list(note.lines.values_list("credited_line", flat=True)) == [second.pk]
    assert list(replacement.lines.values_list("text", "amount_sek")) == [
        (second.text, second.amount_sek)
    ]
    assert replacement.total_payable_sek == second.amount_sek
    assert note.total_payable_sek == second.amount_sek
    for document in (note, replacement):
        assert not peppol_validate(bytes(document.ubl_xml)).fatal
    # Nothing is left of it: it is dealt with, and replacing it again is refused.
    assert not outbox_list(state=InvoiceState.REJECTED).get(pk=invoice.pk).to_replace
    with pytest.raises(BillingError, match="already wholly credited"):
        rejected_invoice_replace(invoice_id=invoice.pk, by=billing_officer)
    assert Invoice.objects.count() == 4
