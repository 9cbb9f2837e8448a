"""Protected persons on the billing floor (BILL-2, BILL-3, BILL-5, LEAK-4).

A person's billing account is made the first time they owe something. When the holder is, or
becomes, protected, the account gets a secret customer number (*sekretesskundnummer*) and the
history is moved off the old number (:func:`account_protect`): the account carries only the
secret number from then on, an append-only move record keeps the old one for the finance team,
what finance already holds under the old number is listed for withdrawal by hand (LEAK-4), and
what the person owes goes to the manual-invoicing list, never to the finance export (BILL-2,
BILL-5: a protected person's patient fee is invoiced by hand through the forwarding service,
never in an ordinary letter with an address)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.errors import BillingError
from billing.models import (
    AccountKind,
    BillingAccount,
    ChargeEvent,
    FinanceExportInvoice,
    FinanceExportPatientInvoice,
    Invoice,
    ManualInvoiceItem,
    ManualReason,
    PayerKind,
    ProtectedAccountMove,
    ProtectedAccountReview,
    Withdrawal,
)
from billing.services.numbering import invoice_number_take
from patients.models import Patient
from protection.permissions import holds_role_permission

CUSTOMER_SERIES = "KUNDP"
SECRET_SERIES = "SEKR"  # noqa: S105 - a counter series, not a password
# The permission of the billing role that works the manual list and the review.
MANUAL_PERMISSION = "billing.change_manualinvoiceitem"
REVIEW_PERMISSION = "billing.add_protectedaccountreview"
WITHDRAW_PERMISSION = "billing.change_withdrawal"


def _secret_number() -> str:
    # From its own counter: nothing in it tells the old number or the person.
    return f"S{invoice_number_take(series=SECRET_SERIES):07d}"


@transaction.atomic
def patient_account_get(*, patient_id: int) -> BillingAccount:
    """The person's billing account, made on first need. A protected person's account is made
    with a secret number only: nothing was ever under an ordinary one."""
    patient = Patient.objects.select_for_update().get(pk=patient_id)
    account = BillingAccount.objects.filter(kind=AccountKind.PATIENT, patient=patient).first()
    if account is not None:
        return account
    if patient.is_protected:
        secret = _secret_number()
        return BillingAccount.objects.create(
            kind=AccountKind.PATIENT,
            patient=patient,
            customer_number=secret,
            secret_customer_number=secret,
        )
    number = invoice_number_take(series=CUSTOMER_SERIES)
    return BillingAccount.objects.create(
        kind=AccountKind.PATIENT, patient=patient, customer_number=f"P{number:07d}"
    )


def _patient_charges(patient_id: int) -> Any:
    return ChargeEvent.objects.filter(payer_kind=PayerKind.PATIENT, patient_id=patient_id)


def _owed_by_hand() -> Q:
    """BILL-5: a person's charges not yet invoiced nor listed. A fee on a patient invoice whose
    letter was made (while the person was ordinary) is invoiced; one whose letter was never made
    (the person became protected first, and the printing ban refused it) is owed still."""
    return Q(invoice_line__isnull=True, manual_item__isnull=True) & (
        Q(patient_invoice_line__isnull=True)
        | Q(patient_invoice_line__invoice__letter_job__document__isnull=True)
    )


def _list_for_manual_invoicing(account: BillingAccount) -> int:
    """What the protected person owes and has not been invoiced: to the manual list, once."""
    assert account.patient_id is not None
    charges = _patient_charges(account.patient_id).filter(_owed_by_hand())
    invoices = Invoice.objects.filter(
        buyer_account=account, manual_item__isnull=True, exports__isnull=True
    )
    items = [
        ManualInvoiceItem(
            account=account,
            reason=ManualReason.PROTECTED_CHARGE,
            charge=charge,
            amount_sek=charge.amount_sek,
            order_number=charge.order_number,
        )
        for charge in charges.order_by("pk")
    ] + [
        ManualInvoiceItem(
            account=account,
            reason=ManualReason.PROTECTED_INVOICE,
            invoice=invoice,
            amount_sek=invoice.total_payable_sek,
            order_number="",
        )
        for invoice in invoices.order_by("pk")
    ]
    ManualInvoiceItem.objects.bulk_create(items)
    return len(items)


@transaction.atomic
def account_protect(*, patient_id: int) -> ProtectedAccountMove | None:
    """BILL-2, LEAK-4: the holder is protected; move the account off its old number. Safe to
    run twice (the second finds the secret number and does nothing). None when the person is
    not protected (re-read here) or has no account: then nothing was ever under a number."""
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None or not patient.is_protected:
        return None
    account = (
        BillingAccount.objects.select_for_update()
        .filter(kind=AccountKind.PATIENT, patient_id=patient_id)
        .first()
    )
    if account is None:
        return None
    if account.secret_customer_number:
        _list_for_manual_invoicing(account)
        return ProtectedAccountMove.objects.filter(account=account).first()
    secret = _secret_number()
    move = ProtectedAccountMove.objects.create(
        account=account,
        old_customer_number=account.customer_number,
        secret_customer_number=secret,
        charges_moved=_patient_charges(patient_id).count(),
        invoices_moved=Invoice.objects.filter(buyer_account=account).count(),
    )
    # The account keeps only the secret number: the old one lives on in the move record alone.
    BillingAccount.objects.filter(pk=account.pk).update(
        customer_number=secret, secret_customer_number=secret
    )
    account.refresh_from_db()
    Withdrawal.objects.bulk_create(
        [
            Withdrawal(move=move, invoice_id=item.invoice_id, export_id=item.export_id)
            for item in FinanceExportInvoice.objects.filter(
                invoice__buyer_account=account
            ).order_by("pk")
        ]
        + [
            Withdrawal(
                move=move, patient_invoice_id=item.patient_invoice_id, export_id=item.export_id
            )
            for item in FinanceExportPatientInvoice.objects.filter(
                patient_invoice__account=account
            ).order_by("pk")
        ]
    )
    _list_for_manual_invoicing(account)
    return move


def accounts_protect_sweep() -> int:
    """Accounts whose holder is protected but still under an ordinary number (a lost task):
    moved here. Run before every finance export and by beat."""
    moved = 0
    for patient_id in BillingAccount.objects.filter(
        kind=AccountKind.PATIENT,
        patient__is_protected=True,
        secret_customer_number__isnull=True,
    ).values_list("patient_id", flat=True):
        assert patient_id is not None
        moved += account_protect(patient_id=patient_id) is not None
    return moved


@transaction.atomic
def patient_fees_route() -> int:
    """BILL-5: a protected person's patient fees (and anything else they owe themselves) go to
    the manual-invoicing list, under their secret number; the finance export never sees them.
    Returns how many were listed."""
    listed = 0
    patients = (
        ChargeEvent.objects.filter(
            payer_kind=PayerKind.PATIENT,
            patient__is_protected=True,
        )
        .filter(_owed_by_hand())
        .values_list("patient_id", flat=True)
        .distinct()
    )
    for patient_id in sorted(p for p in patients if p is not None):
        account = patient_account_get(patient_id=patient_id)
        if not account.secret_customer_number:
            account_protect(patient_id=patient_id)
            account.refresh_from_db()
        listed += _list_for_manual_invoicing(account)
    return listed


@transaction.atomic
def patient_fees_list_by_hand(*, patient_id: int) -> int:
    """BILL-5: what a guarded person owes (the printing ban refused their patient invoice's
    letter) goes to the manual-invoicing list. Returns how many were listed."""
    return _list_for_manual_invoicing(patient_account_get(patient_id=patient_id))


def _require(user: Any, perm: str) -> None:
    if not holds_role_permission(user, perm):
        raise BillingError(_("Only billing staff can do this."))


@transaction.atomic
def manual_item_handle(*, by: Any, item_id: int) -> ManualInvoiceItem:
    """The billing officer has invoiced the item by hand (through the forwarding service)."""
    _require(by, MANUAL_PERMISSION)
    item = ManualInvoiceItem.objects.select_for_update().filter(pk=item_id).first()
    if item is None:
        raise BillingError(_("There is no such item on the manual-invoicing list."))
    if item.handled_at is not None:
        raise BillingError(_("This item has already been marked as invoiced by hand."))
    item.handled_by = by
    item.handled_at = timezone.now()
    item.save(update_fields=["handled_by", "handled_at"])
    return item


def protected_account_review(*, by: Any, move_id: int) -> ProtectedAccountReview:
    """BILL-3: the billing officer has reviewed an account whose holder became protected."""
    _require(by, REVIEW_PERMISSION)
    # No lock needed (nor allowed: the record is append-only): one review per move, by the
    # unique key: the second is told it is done.
    move = ProtectedAccountMove.objects.filter(pk=move_id).first()
    if move is None:
        raise BillingError(_("There is no such protected account to review."))
    try:
        with transaction.atomic():
            return ProtectedAccountReview.objects.create(move=move, reviewed_by=by)
    except IntegrityError:
        raise BillingError(_("This account has already been reviewed.")) from None


@transaction.atomic
def withdrawal_done(*, by: Any, withdrawal_id: int) -> Withdrawal:
    """LEAK-4: the billing officer has withdrawn the invoice in the finance system by hand."""
    _require(by, WITHDRAW_PERMISSION)
    withdrawal = Withdrawal.objects.select_for_update().filter(pk=withdrawal_id).first()
    if withdrawal is None:
        raise BillingError(_("There is no such withdrawal."))
    if withdrawal.withdrawn_at is not None:
        raise BillingError(_("This invoice has already been marked as withdrawn."))
    withdrawal.withdrawn_by = by
    withdrawal.withdrawn_at = timezone.now()
    withdrawal.save(update_fields=["withdrawn_by", "withdrawn_at"])
    return withdrawal
