"""The finance export (BILL-2, LEAK-4): the fixed-width file checked byte for byte against the
committed golden file, its totals, SIE 4i, idempotent re-runs, the command, and that no
protected person's number, name or address reaches it."""

from __future__ import annotations

import datetime
import itertools
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from billing.errors import BillingError
from billing.finance.layout import RECORD_LENGTH
from billing.models import (
    FinanceExport,
    FinanceExportInvoice,
    FinanceExportPatientInvoice,
    Invoice,
    ManualInvoiceItem,
    ManualReason,
    PatientInvoice,
)
from billing.services.credits import credit_note_issue
from billing.services.finance import finance_export
from billing.services.patient_invoices import patient_invoices_issue
from billing.services.runs import billing_run, system_context
from patients.models import PatientIdentity
from prescriptions.models import Article
from protection.documents.services import document_job_render
from tests.billing.conftest import out_of_region
from tests.billing.protected_helpers import patient_fee
from tests.logistics.devices_helpers import lent

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).parent / "golden"
FEB = datetime.date(2026, 2, 1)
MAR = datetime.date(2026, 3, 1)
RUN_DAY = datetime.date(2026, 3, 13)
EXPORT_DAY = datetime.date(2026, 4, 2)


@pytest.fixture
def fixed_references(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prescription (and order) numbers are random; the golden file needs the same ones."""
    counter = itertools.count(1)
    monkeypatch.setattr(
        "prescriptions.models.prescription.random_reference",
        lambda prefix, length: f"{prefix}{next(counter):0{length}d}",
    )


@pytest.fixture
def demo_month(
    fixed_references: None,
    rx: Any,
    ordinary: Any,
    protected_patient: Any,
    rollator: Any,
    central: Any,
    tariffs: Any,
    home_account: Any,
    billing_officer: Any,
) -> dict[str, Any]:
    """A month like the demo's: two out-of-region patients on rent, one of them protected, with
    the protected person's own patient fee; February invoiced on 13 March."""
    # The factory numbers its articles in the order tests run; the golden file needs one name.
    Article.objects.filter(pk=rollator.pk).update(name="Rollator Demo")
    ordinary_device = lent(rx, ordinary, rollator, central)
    protected_device = lent(rx, protected_patient, rollator, central)
    out_of_region(ordinary_device, reference="AVT-2026-17")
    out_of_region(protected_device, reference="AVT-2026-17")
    fee = patient_fee(protected_patient, key="patientfee:golden")
    done = billing_run(month=FEB, dry_run=False, ctx=system_context(billing_officer), today=RUN_DAY)
    assert done.summary["invoices"], done.summary
    # BILL-5: the ordinary patient's own fee, invoiced to them by letter (PA1) the same day.
    patient_fee(
        ordinary,
        key="patientfee:ordinary",
        amount="100.00",
        order="F-AVG00002",
        day=datetime.date(2026, 3, 11),
    )
    (patient_invoice,) = patient_invoices_issue(ctx=system_context(billing_officer), today=RUN_DAY)
    return {
        "protected": protected_patient,
        "ordinary": ordinary,
        "fee": fee,
        "patient_invoice": patient_invoice,
        "officer": billing_officer,
    }


def protected_bytes(patient: Any) -> list[bytes]:
    """Every form of the protected person's number, names and address, as the file could
    carry them (ISO-8859-1, the file's encoding, and UTF-8)."""
    identity = PatientIdentity.objects.get(patient=patient)
    number = identity.personal_identity_number
    address = identity.registered_address or {}
    texts = {
        number,
        number[2:],
        f"{number[:8]}-{number[8:]}",
        f"{number[2:8]}-{number[8:]}",
        identity.given_names,
        identity.surname,
        *(str(value) for value in address.values() if value),
    }
    return [text.encode(encoding) for text in texts if text for encoding in ("iso-8859-1", "utf-8")]


def records(content: bytes) -> list[str]:
    text = content.decode("iso-8859-1")
    assert text.endswith("\r\n")
    return text[:-2].split("\r\n")


def test_bill_2_leak_4_the_finance_file_equals_the_golden_file(demo_month):
    export = finance_export(month=MAR, by=demo_month["officer"], today=EXPORT_DAY)
    content = bytes(export.content)
    golden = GOLDEN / "finance_export_2026-03.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_bytes(content)
    assert content == golden.read_bytes()
    for secret in protected_bytes(demo_month["protected"]):
        assert secret not in content, secret
    # The protected person's own fee went to manual invoicing, not into the file.
    assert ManualInvoiceItem.objects.filter(charge=demo_month["fee"]).exists()
    assert b"F-AVG00001" not in content


def test_bill_2_the_totals_record_is_the_sum_of_the_invoices(demo_month):
    export = finance_export(month=MAR, by=demo_month["officer"], today=EXPORT_DAY)
    lines = records(bytes(export.content))
    assert all(len(line) == RECORD_LENGTH for line in lines)
    assert lines[0][:2] == "00"
    assert lines[-1][:2] == "99"
    invoices = [line for line in lines if line[:2] == "10"]
    postings = [line for line in lines if line[:2] == "20"]
    invoice_sum = sum(int(line[49:64]) for line in invoices)
    posting_sum = sum(int(line[24:39]) for line in postings)
    totals = lines[-1]
    assert (int(totals[2:10]), int(totals[10:18])) == (len(invoices), len(postings))
    assert int(totals[18:33]) == invoice_sum == posting_sum
    issued = Invoice.objects.filter(issue_date__gte=MAR)
    patient_invoice = demo_month["patient_invoice"]
    expected = sum(i.total_payable_sek for i in issued) + patient_invoice.total_sek
    assert invoice_sum == int(expected * 100)
    assert export.total_sek * 100 == invoice_sum
    assert export.invoice_count == issued.count() + 1 == len(invoices)
    # BILL-5: the patient invoice is a customer invoice to the patient's customer number.
    (record,) = [line for line in invoices if line[3:7] == "PA  "]
    assert int(record[7:17]) == patient_invoice.number
    assert record[17:33].strip() == patient_invoice.account.customer_number
    assert int(record[49:64]) == int(patient_invoice.total_sek * 100)


def test_bill_2_a_re_run_exports_nothing_twice_and_gives_the_same_file(demo_month):
    first = finance_export(month=MAR, by=demo_month["officer"], today=EXPORT_DAY)
    again = finance_export(
        month=MAR, by=demo_month["officer"], today=EXPORT_DAY + datetime.timedelta(days=1)
    )
    assert again.pk == first.pk
    assert FinanceExport.objects.count() == 1
    assert (
        FinanceExportInvoice.objects.count() + FinanceExportPatientInvoice.objects.count()
        == first.invoice_count
    )


def test_bill_2_a_credit_note_is_exported_negative_and_only_once(demo_month):
    (invoice,) = Invoice.objects.all()
    credit = credit_note_issue(invoice_id=invoice.pk, reason="Fel period", by=demo_month["officer"])
    month = timezone.localdate().replace(day=1)
    export = finance_export(month=month, by=demo_month["officer"])
    lines = records(bytes(export.content))
    (record,) = [line for line in lines if line[:2] == "10"]
    assert record[2] == "K"
    assert int(record[49:64]) == -int(credit.total_payable_sek * 100)
    assert int(lines[-1][18:33]) == int(record[49:64])


def test_bill_2_sie_vouchers_balance_and_name_no_protected_person(demo_month):
    export = finance_export(
        month=MAR, export_format="sie", by=demo_month["officer"], today=EXPORT_DAY
    )
    content = bytes(export.content)
    golden = GOLDEN / "finance_export_2026-03.sie"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_bytes(content)
    assert content == golden.read_bytes()
    text = content.decode("cp437")
    assert "#SIETYP 4" in text
    amounts = [Decimal(row.split()[3]) for row in text.splitlines() if "#TRANS" in row]
    assert amounts
    assert sum(amounts) == 0
    for secret in protected_bytes(demo_month["protected"]):
        assert secret not in content, secret
    # The fixed-width export of the same month is separate: each format exports each invoice.
    fixed = finance_export(month=MAR, by=demo_month["officer"], today=EXPORT_DAY)
    assert fixed.pk != export.pk
    assert fixed.invoice_count == export.invoice_count


def test_bill_2_the_command_writes_the_file_and_refuses_a_bad_month(demo_month, tmp_path):
    out = tmp_path / "finans.txt"
    call_command("finance_export", "--month", "2026-03", "--out", str(out))
    export = FinanceExport.objects.get()
    assert out.read_bytes() == bytes(export.content)
    call_command("finance_export", "--month", "2026-03", "--out", str(out))
    assert FinanceExport.objects.count() == 1
    with pytest.raises(CommandError, match="--month"):
        call_command("finance_export", "--month", "2026-13", "--out", str(out))
    with pytest.raises(CommandError, match="--out"):
        call_command("finance_export", "--month", "2026-03", "--out", "/nowhere/x.txt")


def test_bill_2_bill_5_a_patient_protected_after_their_invoice_is_not_in_the_file(demo_month):
    """As for an invoice whose buyer became protected before the export: the patient invoice
    is kept out of the file and listed for booking by hand, and nothing of theirs is written."""
    patient_invoice = demo_month["patient_invoice"]
    job = patient_invoice.letter_job
    assert document_job_render(job_id=job.pk) == "ready"
    ordinary = demo_month["ordinary"]
    old_number = patient_invoice.account.customer_number
    ordinary.protected_registration = True
    ordinary.save()

    export = finance_export(month=MAR, by=demo_month["officer"], today=EXPORT_DAY)
    content = bytes(export.content)

    assert old_number.encode() not in content
    assert b"PA  " not in content
    assert b"F-AVG00002" not in content
    for secret in protected_bytes(ordinary):
        assert secret not in content, secret
    item = ManualInvoiceItem.objects.get(patient_invoice=patient_invoice)
    assert item.amount_sek == patient_invoice.total_sek
    # The letter already reached the person: booked by hand, never sent to them again.
    assert item.reason == ManualReason.PROTECTED_SENT
    assert not FinanceExportPatientInvoice.objects.exists()
    lines = records(content)
    invoice_sum = sum(int(line[49:64]) for line in lines if line[:2] == "10")
    assert int(lines[-1][18:33]) == invoice_sum == int(export.total_sek * 100)
    # A re-run lists it once.
    finance_export(month=MAR, by=demo_month["officer"], today=EXPORT_DAY)
    assert ManualInvoiceItem.objects.filter(patient_invoice=patient_invoice).count() == 1
    assert PatientInvoice.objects.count() == 1


def test_leak_4_a_file_with_a_patient_invoice_to_a_now_protected_person_is_not_handed_out(
    demo_month,
):
    """The file names the patient's old customer number: once they are protected, a re-run
    refuses to hand it back, as for an invoice to a region's patient account."""
    first = finance_export(month=MAR, by=demo_month["officer"], today=EXPORT_DAY)
    old_number = demo_month["patient_invoice"].account.customer_number
    assert old_number.encode() in bytes(first.content)
    ordinary = demo_month["ordinary"]
    ordinary.protected_registration = True
    ordinary.save()

    with pytest.raises(BillingError, match="protected"):
        finance_export(month=MAR, by=demo_month["officer"], today=EXPORT_DAY)


def test_leak_4_a_patient_invoice_already_in_finance_is_listed_for_withdrawal_by_hand(
    demo_month, client
):
    """The holder of PA1 becomes protected after the file went to finance: the move to a secret
    number lists PA1 for withdrawal by hand (its old customer number is in the finance system),
    the review page shows it by its number, and listing it is done once."""
    from django.urls import reverse

    from billing.models import Withdrawal
    from billing.services.protected import account_protect

    export = finance_export(month=MAR, by=demo_month["officer"], today=EXPORT_DAY)
    invoice = demo_month["patient_invoice"]
    ordinary = demo_month["ordinary"]
    ordinary.protected_registration = True
    ordinary.save()

    move = account_protect(patient_id=ordinary.pk)
    assert move is not None
    (withdrawal,) = Withdrawal.objects.filter(move=move)
    assert withdrawal.patient_invoice_id == invoice.pk
    assert withdrawal.invoice_id is None
    assert withdrawal.export_id == export.pk
    assert account_protect(patient_id=ordinary.pk) == move
    assert Withdrawal.objects.filter(move=move).count() == 1

    client.force_login(demo_month["officer"])
    page = client.get(reverse("billing:protected_review")).content.decode()
    assert str(invoice) in page
