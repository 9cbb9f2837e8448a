"""Protected persons on the billing floor (BILL-2, BILL-3, BILL-5, LEAK-4): the move to a
secret customer number when the holder becomes protected, the withdrawal list of what finance
already holds, the manual-invoicing list, and the monthly review."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, transaction
from django.utils import translation

from billing import tasks
from billing.errors import BillingError
from billing.models import (
    ManualInvoiceItem,
    ManualReason,
    ProtectedAccountMove,
    ProtectedAccountReview,
    Withdrawal,
)
from billing.services.finance import finance_export
from billing.services.protected import (
    account_protect,
    accounts_protect_sweep,
    manual_item_handle,
    patient_account_get,
    patient_fees_route,
    protected_account_review,
    withdrawal_done,
)
from patients.models import Patient
from protection.registry import protection_added_handlers
from tests.billing.protected_helpers import patient_fee, person_invoice
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english() -> Any:
    # The messages are asserted in English (the msgids); users read them in Swedish.
    with translation.override("en"):
        yield


MAR = datetime.date(2026, 3, 1)
TODAY = datetime.date(2026, 4, 2)


def protect(patient: Patient) -> None:
    patient.protected_registration = True
    patient.save()
    patient.refresh_from_db()


@pytest.fixture
def officer() -> Any:
    return UserFactory(username="avgift", role="billing")


def test_bill_2_the_billing_floor_hears_when_a_person_becomes_protected():
    assert tasks.protection_added in protection_added_handlers


def test_bill_2_leak_4_a_person_becoming_protected_is_moved_to_a_secret_number(ordinary, officer):
    account = patient_account_get(patient_id=ordinary.pk)
    old_number = account.customer_number
    assert old_number.startswith("P")
    sent = person_invoice(account)
    export = finance_export(month=MAR, by=officer, today=TODAY)
    assert old_number.encode() in bytes(export.content)
    not_sent = person_invoice(account, day=datetime.date(2026, 4, 1))
    fee = patient_fee(ordinary, key="fee:1")

    protect(ordinary)
    # The task the handler sends, run as the worker runs it (ids only).
    assert tasks.protect_account.apply(args=[ordinary.pk]).get() is True

    account.refresh_from_db()
    move = ProtectedAccountMove.objects.get(account=account)
    assert move.old_customer_number == old_number
    # The history is moved off the old number: the account carries only the secret one.
    assert account.customer_number == account.secret_customer_number == move.secret_customer_number
    assert move.secret_customer_number.startswith("S")
    assert (move.charges_moved, move.invoices_moved) == (1, 2)
    # LEAK-4: what finance already holds under the old number, listed for withdrawal by hand.
    (withdrawal,) = Withdrawal.objects.all()
    assert (withdrawal.invoice_id, withdrawal.export_id) == (sent.pk, export.pk)
    # BILL-2: what was not yet sent goes to the manual list, never to the export.
    assert set(ManualInvoiceItem.objects.values_list("reason", "invoice_id", "charge_id")) == {
        (ManualReason.PROTECTED_INVOICE, not_sent.pk, None),
        (ManualReason.PROTECTED_CHARGE, None, fee.pk),
    }
    april = finance_export(month=datetime.date(2026, 4, 1), by=officer, today=TODAY)
    assert april.invoice_count == 0
    content = bytes(april.content)
    assert old_number.encode() not in content
    assert move.secret_customer_number.encode() not in content
    # LEAK-4: the March file named the old number: it is never handed out again.
    with pytest.raises(BillingError, match="not handed out again"):
        finance_export(month=MAR, by=officer, today=TODAY)
    # Run twice: nothing moves twice.
    assert account_protect(patient_id=ordinary.pk) == move
    assert Withdrawal.objects.count() == 1
    assert ManualInvoiceItem.objects.count() == 2


def test_bill_2_the_move_record_cannot_be_changed(ordinary):
    patient_account_get(patient_id=ordinary.pk)
    protect(ordinary)
    move = account_protect(patient_id=ordinary.pk)
    assert move is not None
    with pytest.raises(DatabaseError), transaction.atomic():
        ProtectedAccountMove.objects.filter(pk=move.pk).update(old_customer_number="X")


def test_bill_2_a_protected_person_gets_a_secret_number_from_the_start(protected_patient):
    account = patient_account_get(patient_id=protected_patient.pk)
    assert account.secret_customer_number
    assert account.customer_number == account.secret_customer_number
    # Nothing was ever under an ordinary number: there is nothing to move.
    assert account_protect(patient_id=protected_patient.pk) is None


def test_bill_2_the_sweep_moves_what_a_lost_task_left(ordinary):
    account = patient_account_get(patient_id=ordinary.pk)
    protect(ordinary)
    assert accounts_protect_sweep() == 1
    assert accounts_protect_sweep() == 0
    account.refresh_from_db()
    assert account.secret_customer_number


def test_bill_2_an_ordinary_person_is_not_moved(ordinary):
    patient_account_get(patient_id=ordinary.pk)
    assert account_protect(patient_id=ordinary.pk) is None
    assert not ProtectedAccountMove.objects.exists()


def test_bill_5_a_protected_patients_fee_goes_to_manual_invoicing(protected_patient, ordinary):
    protected_fee = patient_fee(protected_patient, key="fee:p")
    ordinary_fee = patient_fee(ordinary, key="fee:o")
    assert patient_fees_route() == 1
    (item,) = ManualInvoiceItem.objects.all()
    assert (item.charge_id, item.reason, item.amount_sek) == (
        protected_fee.pk,
        ManualReason.PROTECTED_CHARGE,
        Decimal("150.00"),
    )
    assert item.account.secret_customer_number
    assert item.account.customer_number == item.account.secret_customer_number
    assert not ManualInvoiceItem.objects.filter(charge=ordinary_fee).exists()
    # Listed once, however often it runs.
    assert patient_fees_route() == 0


def test_bill_5_a_manual_item_is_marked_invoiced_by_hand_once(protected_patient, officer):
    patient_fee(protected_patient, key="fee:p")
    patient_fees_route()
    item = ManualInvoiceItem.objects.get()
    manual_item_handle(by=officer, item_id=item.pk)
    item.refresh_from_db()
    assert item.handled_by == officer
    with pytest.raises(BillingError, match="already"):
        manual_item_handle(by=officer, item_id=item.pk)


def test_bill_3_a_protected_account_is_reviewed_once_by_a_named_officer(ordinary, officer):
    patient_account_get(patient_id=ordinary.pk)
    protect(ordinary)
    move = account_protect(patient_id=ordinary.pk)
    assert move is not None
    review = protected_account_review(by=officer, move_id=move.pk)
    assert (review.reviewed_by, review.move) == (officer, move)
    assert review.reviewed_at is not None
    with pytest.raises(BillingError, match="already been reviewed"):
        protected_account_review(by=officer, move_id=move.pk)
    assert ProtectedAccountReview.objects.count() == 1


def test_bill_3_leak_4_only_billing_staff_review_and_withdraw(ordinary, officer):
    account = patient_account_get(patient_id=ordinary.pk)
    person_invoice(account)
    finance_export(month=MAR, by=officer, today=TODAY)
    protect(ordinary)
    move = account_protect(patient_id=ordinary.pk)
    assert move is not None
    stranger = UserFactory(username="lager", role="logistics")
    with pytest.raises(BillingError, match="Only billing staff"):
        protected_account_review(by=stranger, move_id=move.pk)
    withdrawal = Withdrawal.objects.get()
    with pytest.raises(BillingError, match="Only billing staff"):
        withdrawal_done(by=stranger, withdrawal_id=withdrawal.pk)
    withdrawal_done(by=officer, withdrawal_id=withdrawal.pk)
    withdrawal.refresh_from_db()
    assert (withdrawal.withdrawn_by, withdrawal.withdrawn_at is not None) == (officer, True)
