"""The billing pages for protected persons and the finance system (BILL-2, BILL-3, LEAK-4,
ACCESS-9): the manual-invoicing list, the review of protected accounts with withdrawals, and
the finance exports. Billing sees secret customer numbers and order numbers only; everyone else
is refused."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from billing.models import (
    AccountKind,
    BillingAccount,
    BillingRun,
    ChargeEvent,
    ChargeKind,
    FinanceExport,
    ManualInvoiceItem,
    PayerKind,
    ProtectedAccountMove,
    ProtectedAccountReview,
    Withdrawal,
)
from billing.models.charges import UnitCode
from billing.services.finance import finance_export
from billing.services.protected import (
    account_protect,
    patient_account_get,
    patient_fees_route,
    protected_account_review,
)
from billing.services.runs import billing_run, system_context
from patients.models import PatientIdentity
from tests.billing.protected_helpers import person_invoice
from tests.factories import PatientFactory, UserFactory
from tests.personas import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english() -> Any:
    # Messages raised outside a request are asserted in English (the msgids).
    with translation.override("en"):
        yield


MAR = datetime.date(2026, 3, 1)
PAGES = ("/billing/manual/", "/billing/protected-accounts/", "/billing/finance-exports/")


@pytest.fixture
def officer() -> Any:
    return UserFactory(username="avgift", role="billing")


@pytest.fixture
def world(ordinary: Any, protected_patient: Any, officer: Any) -> dict[str, Any]:
    """An ordinary person whose exported invoice must be withdrawn after they became
    protected, and a protected person's patient fee on the manual list."""
    account = patient_account_get(patient_id=ordinary.pk)
    person_invoice(account)
    export = finance_export(month=MAR, by=officer, today=datetime.date(2026, 4, 2))
    ordinary.protected_registration = True
    ordinary.save()
    move = account_protect(patient_id=ordinary.pk)
    day = datetime.date(2026, 3, 10)
    ChargeEvent.objects.create(
        kind=ChargeKind.PATIENT_FEE,
        payer_kind=PayerKind.PATIENT,
        patient=protected_patient,
        month=MAR,
        period_start=day,
        period_end=day,
        quantity=Decimal(1),
        unit_code=UnitCode.EACH,
        unit_price_sek=Decimal("150.00"),
        amount_sek=Decimal("150.00"),
        text="Patientavgift",
        order_number="F-AVG00001",
        idempotency_key="fee:pages",
    )
    patient_fees_route()
    return {"move": move, "export": export, "people": [ordinary, protected_patient]}


def secrets_of(people: list[Any]) -> list[str]:
    found = []
    for patient in people:
        identity = PatientIdentity.objects.get(patient=patient)
        number = identity.personal_identity_number
        found += [number, number[2:], identity.given_names, identity.surname]
        found += [str(v) for v in (identity.registered_address or {}).values() if v]
    return [s for s in found if s]


def test_access_9_billing_pages_show_secret_numbers_and_order_numbers_only(
    client: Client, world, officer
):
    logged_in(client, officer)
    move = world["move"]
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        for secret in secrets_of(world["people"]):
            assert secret not in page, (url, secret)
        # The old customer number is kept for finance alone, never shown.
        assert move.old_customer_number not in page
    manual = client.get("/billing/manual/").content.decode()
    assert "F-AVG00001" in manual
    review = client.get("/billing/protected-accounts/").content.decode()
    assert move.secret_customer_number in review


def test_access_9_other_roles_are_refused_the_billing_pages(client: Client, world, rx):
    for url in PAGES:
        assert client.get(url).status_code == 302  # to the login page
    logged_in(client, rx)
    for url in PAGES:
        assert client.get(url).status_code == 403, url
    item = ManualInvoiceItem.objects.first()
    assert item is not None
    assert client.post(f"/billing/manual/{item.pk}/handled/").status_code == 403
    assert (
        client.post(f"/billing/protected-accounts/{world['move'].pk}/reviewed/").status_code == 403
    )
    withdrawal = Withdrawal.objects.get()
    assert client.post(f"/billing/withdrawals/{withdrawal.pk}/done/").status_code == 403
    assert client.get(f"/billing/finance-exports/{world['export'].pk}/file/").status_code == 403
    item.refresh_from_db()
    assert item.handled_at is None
    assert not ProtectedAccountReview.objects.exists()


def test_bill_3_leak_4_the_officer_reviews_and_withdraws_from_the_page(
    client: Client, world, officer
):
    logged_in(client, officer)
    move = world["move"]
    response = client.post(f"/billing/protected-accounts/{move.pk}/reviewed/")
    assert response.status_code == 302
    assert ProtectedAccountReview.objects.get(move=move).reviewed_by == officer
    again = client.post(f"/billing/protected-accounts/{move.pk}/reviewed/", follow=True)
    assert "already been reviewed" in again.content.decode()
    withdrawal = Withdrawal.objects.get()
    client.post(f"/billing/withdrawals/{withdrawal.pk}/done/")
    withdrawal.refresh_from_db()
    assert withdrawal.withdrawn_by == officer
    item = ManualInvoiceItem.objects.filter(handled_at__isnull=True).first()
    assert item is not None
    client.post(f"/billing/manual/{item.pk}/handled/")
    item.refresh_from_db()
    assert item.handled_by == officer
    assert client.post("/billing/manual/999999/handled/").status_code == 404
    assert client.post("/billing/protected-accounts/999999/reviewed/").status_code == 404
    assert client.post("/billing/withdrawals/999999/done/").status_code == 404
    assert client.get("/billing/finance-exports/999999/file/").status_code == 404


def test_bill_2_the_export_file_downloads_as_recorded(client: Client, world, officer):
    logged_in(client, officer)
    april = finance_export(month=datetime.date(2026, 4, 1), by=officer)
    response = client.get(f"/billing/finance-exports/{april.pk}/file/")
    assert response.status_code == 200
    assert response.content == bytes(FinanceExport.objects.get(pk=april.pk).content)
    assert "attachment" in response["Content-Disposition"]


def test_leak_4_a_file_naming_a_person_since_protected_is_not_handed_out(
    client: Client, world, officer
):
    logged_in(client, officer)
    response = client.get(f"/billing/finance-exports/{world['export'].pk}/file/", follow=True)
    assert response.redirect_chain[-1][0] == "/billing/finance-exports/"
    assert "not handed out again" in response.content.decode()
    assert world["move"].old_customer_number not in response.content.decode()


@pytest.mark.parametrize(
    ("url", "queries"),
    [
        ("/billing/manual/", 5),
        ("/billing/protected-accounts/", 7),  # BILL-3: the last run too
        ("/billing/finance-exports/", 5),
    ],
)
def test_bill_2_the_lists_take_a_fixed_number_of_queries(
    client: Client, world, officer, django_assert_num_queries, url, queries
):
    logged_in(client, officer)
    client.get(url)  # the session and the menu's caches warm
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200


def _move(number: str, *, at: datetime.datetime, reviewed_by: Any = None) -> Any:
    """An account moved to a secret number at ``at`` (written as the move service writes it;
    the time is set since every row of a test's transaction would otherwise share one)."""
    account = BillingAccount.objects.create(
        kind=AccountKind.PATIENT,
        patient=PatientFactory(),
        customer_number=number,
        secret_customer_number=number,
    )
    move = ProtectedAccountMove.objects.create(
        account=account,
        old_customer_number=f"P{number[1:]}",
        secret_customer_number=number,
        charges_moved=0,
        invoices_moved=0,
        moved_at=at,
    )
    if reviewed_by is not None:
        protected_account_review(by=reviewed_by, move_id=move.pk)
    return move


def test_bill_3_the_review_lists_accounts_protected_since_the_last_run(
    client: Client, officer: Any
) -> None:
    now = timezone.now()
    days = datetime.timedelta(days=1)
    ctx = system_context(officer)
    first = billing_run(month=datetime.date(2026, 1, 1), dry_run=False, ctx=ctx)
    second = billing_run(month=datetime.date(2026, 2, 1), dry_run=False, ctx=ctx)
    preview = billing_run(month=datetime.date(2026, 3, 1), dry_run=True, ctx=ctx)
    for run, at in ((first, now - 20 * days), (second, now - 10 * days), (preview, now - 5 * days)):
        BillingRun.objects.filter(pk=run.pk).update(started_at=at)
    _move("S9000001", at=now - 30 * days, reviewed_by=officer)  # before both runs
    _move("S9000002", at=now - 15 * days, reviewed_by=officer)  # between the two runs
    _move("S9000003", at=now - 7 * days, reviewed_by=officer)  # since the last run
    _move("S9000004", at=now - 40 * days)  # long ago, but the review is still owed
    logged_in(client, officer)
    page = client.get("/billing/protected-accounts/").content.decode()
    # Since the second run (a preview issues nothing and is no run of the month's).
    assert "S9000003" in page
    assert "S9000004" in page
    assert "S9000001" not in page
    assert "S9000002" not in page
    # Before the second run, the first was the last: the move between them was new then.
    BillingRun.objects.filter(pk=second.pk).update(dry_run=True)
    page = client.get("/billing/protected-accounts/").content.decode()
    assert "S9000002" in page
    assert "S9000001" not in page
    everything = client.get("/billing/protected-accounts/", {"show": "all"}).content.decode()
    for number in ("S9000001", "S9000002", "S9000003", "S9000004"):
        assert number in everything


def test_bill_3_with_no_run_yet_the_review_lists_every_account(
    client: Client, officer: Any
) -> None:
    _move("S9000001", at=timezone.now(), reviewed_by=officer)
    logged_in(client, officer)
    assert "S9000001" in client.get("/billing/protected-accounts/").content.decode()
