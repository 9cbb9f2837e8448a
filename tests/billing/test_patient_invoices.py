"""BILL-5: patient fees (*egenavgift*) are invoiced to the patient. An ordinary patient's fees
become a patient invoice, a letter to the registered address made through the document
pipeline (an immutable record, read back from the PDF); a protected patient's go to the
manual-invoicing list and never into a letter with an address (LETTER-1), also when the person
became protected after the letter was asked for."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import reverse

from billing.documents import PATIENT_INVOICE_KIND
from billing.errors import BillingError
from billing.models import (
    ManualInvoiceItem,
    PatientInvoice,
)
from billing.services.patient_invoices import patient_invoices_issue
from billing.services.protected import account_protect
from billing.services.runs import system_context
from patients.models import Patient, PatientIdentity
from protection.documents.services import document_job_render
from protection.models import Document
from tests.billing.protected_helpers import patient_fee as fee
from tests.billing.test_invoice_pdf import pdf_text, squeezed
from tests.factories import PatientIdentityFactory, UserFactory
from tests.personas import PROTECTED_NUMBER, logged_in

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 4, 2)
PAYER_NUMBER = "194107086995"


@pytest.fixture
def officer() -> Any:
    return UserFactory(username="avgifter", role="billing")


@pytest.fixture
def payer() -> Patient:
    """An ordinary patient with a registered address, who pays their own fees."""
    return PatientIdentityFactory(
        personal_identity_number=PAYER_NUMBER,
        given_names="Greta",
        surname="Avgiftsson",
        registered_address={"street2": "Betalvägen 4", "postal_code": "41101", "city": "GÖTEBORG"},
    ).patient


def secrets_of(patient: Patient) -> list[str]:
    identity = PatientIdentity.objects.get(patient=patient)
    number = identity.personal_identity_number
    address = [str(v) for v in (identity.registered_address or {}).values() if v]
    return [s for s in (number, number[2:8], identity.given_names, identity.surname, *address) if s]


def test_bill_5_an_ordinary_patients_fees_become_a_letter_to_their_address(
    payer, protected_patient, officer
):
    first = fee(payer, key="fee:a", amount="150.00", order="F-AVG00001")
    second = fee(payer, key="fee:b", amount="200.00", order="F-AVG00002")
    hidden = fee(protected_patient, key="fee:p", amount="300.00", order="F-AVG00003")

    (invoice,) = patient_invoices_issue(ctx=system_context(officer), today=TODAY)

    assert invoice.account.patient_id == payer.pk
    assert invoice.total_sek == Decimal("350.00")
    assert {line.charge_id for line in invoice.lines.all()} == {first.pk, second.pk}
    assert (invoice.issue_date, invoice.due_date) == (TODAY, datetime.date(2026, 5, 2))
    job = invoice.letter_job
    assert job is not None
    assert (job.kind, job.record) == (PATIENT_INVOICE_KIND, True)
    flat = squeezed(pdf_text(job))
    # The letter: to the patient by name at the registered address, the fees and the total.
    for expected in ("GretaAvgiftsson", "Betalvägen4", "41101GÖTEBORG", "F-AVG00001", "350,00"):
        assert expected in flat, expected
    assert squeezed(f"Patientfaktura {invoice}") in flat
    assert invoice.account.customer_number in flat
    # BILL-5: the protected person's fee is on the manual list, and nothing of theirs is here.
    assert ManualInvoiceItem.objects.get().charge == hidden
    assert not PatientInvoice.objects.filter(account__patient=protected_patient).exists()
    for secret in secrets_of(protected_patient):
        assert squeezed(secret) not in flat, secret
    assert "F-AVG00003" not in flat
    # Safe twice: nothing is invoiced again.
    assert patient_invoices_issue(ctx=system_context(officer), today=TODAY) == []
    assert PatientInvoice.objects.count() == 1


def test_bill_5_an_issued_patient_invoice_never_changes(payer, officer):
    fee(payer, key="fee:a", amount="150.00", order="F-AVG00001")
    (invoice,) = patient_invoices_issue(ctx=system_context(officer), today=TODAY)
    with pytest.raises(DatabaseError), transaction.atomic():
        PatientInvoice.objects.filter(pk=invoice.pk).update(total_sek=Decimal("1.00"))
    with pytest.raises(DatabaseError), transaction.atomic():
        PatientInvoice.objects.filter(pk=invoice.pk).update(letter_job=None)
    with pytest.raises(DatabaseError), transaction.atomic():
        invoice.lines.all().delete()


def test_bill_5_letter_1_a_patient_protected_before_the_letter_is_made_gets_none(payer, officer):
    charge = fee(payer, key="fee:a", amount="150.00", order="F-AVG00001")
    (invoice,) = patient_invoices_issue(ctx=system_context(officer), today=TODAY)
    payer.protected_registration = True
    payer.save()
    # The worker asks the printing ban again: no ordinary letter with the address is made.
    assert invoice.letter_job is not None
    assert document_job_render(job_id=invoice.letter_job.pk) != "ready"
    assert not Document.objects.filter(pk=invoice.letter_job.pk).exists()
    # The fee is owed still: the move to a secret number lists it for invoicing by hand, and
    # no second letter is made for it.
    account_protect(patient_id=payer.pk)
    assert ManualInvoiceItem.objects.get().charge == charge
    assert patient_invoices_issue(ctx=system_context(officer), today=TODAY) == []
    assert PatientInvoice.objects.count() == 1


def test_bill_5_a_fee_whose_letter_was_made_is_not_listed_again_when_protected(payer, officer):
    fee(payer, key="fee:a", amount="150.00", order="F-AVG00001")
    (invoice,) = patient_invoices_issue(ctx=system_context(officer), today=TODAY)
    assert invoice.letter_job is not None
    assert document_job_render(job_id=invoice.letter_job.pk) == "ready"
    payer.protected_registration = True
    payer.save()
    account_protect(patient_id=payer.pk)
    # The letter was made while the person was ordinary: invoiced, not owed a second time.
    assert not ManualInvoiceItem.objects.exists()


def test_bill_5_a_fee_of_a_protected_patient_is_never_put_in_a_letter(protected_patient, officer):
    fee(protected_patient, key="fee:p", amount="300.00", order="F-AVG00003")
    assert patient_invoices_issue(ctx=system_context(officer), today=TODAY) == []
    item = ManualInvoiceItem.objects.get()
    assert item.order_number == "F-AVG00003"
    assert PROTECTED_NUMBER not in item.account.customer_number
    assert item.account.secret_customer_number


def test_bill_5_only_billing_staff_invoice_patient_fees(payer, rx):
    fee(payer, key="fee:a", amount="150.00", order="F-AVG00001")
    with pytest.raises(BillingError):
        patient_invoices_issue(ctx=system_context(rx), today=TODAY)
    assert not PatientInvoice.objects.exists()


def test_bill_5_the_patient_invoices_page_lists_numbers_and_issues(
    client: Client, payer, officer, django_assert_num_queries
):
    fee(payer, key="fee:a", amount="150.00", order="F-AVG00001")
    logged_in(client, officer)
    url = reverse("billing:patient_invoices")
    assert "No patient invoices yet." in client.get(url).content.decode()
    done = client.post(reverse("billing:patient_invoices_issue"), follow=True)
    assert "1 patient invoice issued." in done.content.decode()
    invoice = PatientInvoice.objects.get()
    client.get(url)  # warm the session and the menu's caches
    with django_assert_num_queries(6):
        page = client.get(url).content.decode()
    assert str(invoice) in page
    assert invoice.account.customer_number in page
    assert reverse("protection:document_download", args=[invoice.letter_job_id]) in page
    # The page names no person: the name and address travel on the letter alone.
    for secret in secrets_of(payer):
        assert secret not in page, secret


def test_bill_5_the_patient_invoices_page_is_denied_to_other_roles(client: Client, payer, rx):
    fee(payer, key="fee:a", amount="150.00", order="F-AVG00001")
    url = reverse("billing:patient_invoices")
    issue = reverse("billing:patient_invoices_issue")
    assert client.get(url).status_code == 302  # to the login page
    logged_in(client, rx)
    assert client.get(url).status_code == 403
    assert client.post(issue).status_code == 403
    assert not PatientInvoice.objects.exists()
