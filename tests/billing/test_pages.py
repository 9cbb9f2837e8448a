"""The billing role's pages (issue 12): the month's run (preview and issue, validation shown),
invoices and credit notes, crediting, the outbox, lapsed claims and KPI-3; each page denied to
the prescriber, the store's staff and the anonymous; list views pin their queries."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from billing.machines import INVOICE_MACHINE
from billing.models import BillingRun, Invoice, InvoiceKind, InvoiceState
from billing.selectors import billing_counts
from billing.services.credits import credit_note_issue
from billing.services.runs import billing_run, system_context
from billing.views.invoices import finding_categories
from logistics.services.losses import loss_case_decide, loss_case_found, loss_device_report
from patients.transitions import transition_apply
from prescriptions.models import PrescribingUnit
from tests.billing.conftest import out_of_region
from tests.config.test_start_page import demo_user
from tests.factories import UnitFactory, UserFactory
from tests.logistics.devices_helpers import lent
from tests.personas import logged_in
from tests.prescriptions.factories import PrescribingUnitFactory

FEB = datetime.date(2026, 2, 1)
TODAY = datetime.date(2026, 3, 12)

PAGES = [
    ("billing:run", False),
    ("billing:invoices", False),
    ("billing:outbox", False),
    ("billing:lapsed", False),
    ("billing:losses", False),
    ("billing:invoice", True),
    ("billing:invoice_xml", True),
]
POSTS = ["billing:invoice_credit", "billing:invoice_replace", "billing:invoice_send"]


def _issued(officer: Any) -> Invoice:
    billing_run(month=FEB, dry_run=False, ctx=system_context(officer), today=TODAY)
    return Invoice.objects.get(kind=InvoiceKind.INVOICE)


def _url(route: str, with_id: bool, pk: int = 1) -> str:
    return reverse(route, args=[pk]) if with_id else reverse(route)


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["prescriber", "logistics"])
@pytest.mark.parametrize(("route", "with_id"), PAGES)
def test_denied_the_billing_pages_to_other_roles(
    client: Client, username: str, route: str, with_id: bool
) -> None:
    logged_in(client, demo_user(username))
    assert client.get(_url(route, with_id)).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("route", POSTS)
def test_denied_the_billing_actions_to_other_roles_and_the_anonymous(
    client: Client, route: str
) -> None:
    assert client.post(reverse(route, args=[1])).status_code == 302  # to the login page
    logged_in(client, demo_user("prescriber"))
    assert client.post(reverse(route, args=[1])).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "with_id"), PAGES)
def test_denied_the_anonymous_is_sent_to_login(client: Client, route: str, with_id: bool) -> None:
    response = client.get(_url(route, with_id))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_denied_a_missing_invoice_is_404_for_the_billing_role(client: Client) -> None:
    logged_in(client, demo_user("billing"))
    assert client.get(reverse("billing:invoice", args=[999999])).status_code == 404
    assert client.get(reverse("billing:invoice_xml", args=[999999])).status_code == 404


@pytest.mark.django_db
def test_bill_1_bill_7_the_preview_shows_the_invoice_and_issues_nothing_then_issue(
    client: Client, lent_device, tariffs, home_account, billing_officer
) -> None:
    out_of_region(lent_device)
    logged_in(client, billing_officer)
    with (
        mock.patch("billing.views.invoices.timezone.localdate", return_value=TODAY),
        mock.patch("billing.services.runs.timezone.localdate", return_value=TODAY),
    ):
        preview = client.post(reverse("billing:run"), {"month": "2026-02", "action": "preview"})
        assert preview.status_code == 200
        html = preview.content.decode()
        assert "Preview: what would be issued" in html
        assert "F1" in html
        assert "Valid" in html
        assert not Invoice.objects.exists()
        unconfirmed = client.post(reverse("billing:run"), {"month": "2026-02", "action": "issue"})
        assert unconfirmed.status_code == 400
        assert not Invoice.objects.exists()
        issued = client.post(
            reverse("billing:run"), {"month": "2026-02", "action": "issue", "confirm": "on"}
        )
    assert "Issued" in issued.content.decode()
    assert Invoice.objects.filter(kind=InvoiceKind.INVOICE).count() == 1
    assert BillingRun.objects.filter(dry_run=False).count() == 1


@pytest.mark.django_db
def test_a_bad_month_is_named_next_to_the_field_and_kept(client: Client) -> None:
    logged_in(client, demo_user("billing"))
    response = client.post(reverse("billing:run"), {"month": "2026-13", "action": "preview"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Write the month as YYYY-MM" in html
    assert 'value="2026-13"' in html
    assert not BillingRun.objects.exists()


def test_bill_7_findings_are_told_in_plain_words_each_kind_once() -> None:
    findings = [
        {"rule": "BR-CO-15", "text": "x"},
        {"rule": "BR-CO-16", "text": "y"},
        {"rule": "SE-R-003", "text": "z"},
        {"rule": "XX-1", "text": "w"},
    ]
    with translation.override("en"):
        categories = finding_categories(findings)
    assert categories == [
        "The totals do not add up.",
        "The seller's Swedish details (organisation number, F-tax, VAT).",
        "Another e-invoice rule.",
    ]


@pytest.mark.django_db
def test_bill_7_the_invoice_page_its_xml_and_a_credit_by_line(
    client: Client, lent_device, tariffs, home_account, billing_officer
) -> None:
    out_of_region(lent_device)
    invoice = _issued(billing_officer)
    logged_in(client, billing_officer)
    html = client.get(reverse("billing:invoice", args=[invoice.pk])).content.decode()
    assert str(invoice) in html
    assert home_account.name in html
    assert str(invoice.total_payable_sek) in html
    xml = client.get(reverse("billing:invoice_xml", args=[invoice.pk]))
    assert xml["Content-Disposition"] == 'attachment; filename="F-1.xml"'
    assert b"<Invoice" in xml.content
    credit = reverse("billing:invoice_credit", args=[invoice.pk])
    # Without the confirmation nothing is issued and the reason typed is kept.
    refused = client.post(credit, {"lines": ["1"], "reason": "Wrong period"})
    assert refused.status_code == 400
    assert 'value="Wrong period"' in refused.content.decode()
    assert not Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exists()
    done = client.post(credit, {"lines": ["1"], "reason": "Wrong period", "confirm": "on"})
    note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    assert done["Location"] == reverse("billing:invoice", args=[note.pk])
    assert note.credited_invoice == invoice
    # The reason is stored with the credit note and shown on its page.
    assert note.credit_reason == "Wrong period"
    assert "Wrong period" in client.get(done["Location"]).content.decode()
    again = client.post(credit, {"lines": ["1"], "reason": "Again", "confirm": "on"})
    assert again.status_code == 400
    shown = again.content.decode()
    assert "already credited" in shown
    # A refusal by the service keeps what was typed and ticked too.
    assert 'value="Again"' in shown
    assert re.search(r'<input[^>]*value="1"[^>]*checked', shown)


@pytest.mark.django_db
def test_bill_7_a_rejected_invoice_is_replaced_from_its_page(
    client: Client, lent_device, tariffs, home_account, billing_officer
) -> None:
    out_of_region(lent_device)
    invoice = _issued(billing_officer)
    with transaction.atomic():
        transition_apply(machine=INVOICE_MACHINE, obj=invoice, to_state=InvoiceState.SENT)
        transition_apply(machine=INVOICE_MACHINE, obj=invoice, to_state=InvoiceState.REJECTED)
    logged_in(client, billing_officer)
    outbox = client.get(reverse("billing:outbox"), {"state": "rejected"}).content.decode()
    assert str(invoice) in outbox
    client.post(reverse("billing:invoice_replace", args=[invoice.pk]))
    assert set(Invoice.objects.values_list("kind", flat=True)) == {"invoice", "credit_note"}
    assert Invoice.objects.filter(kind=InvoiceKind.INVOICE).count() == 2


@pytest.mark.django_db
def test_the_outbox_shows_the_last_error_and_sends_again(
    client: Client, lent_device, tariffs, home_account, billing_officer
) -> None:
    out_of_region(lent_device)
    invoice = _issued(billing_officer)
    Invoice.objects.filter(pk=invoice.pk).update(send_attempts=2, send_error="drop dir missing")
    logged_in(client, billing_officer)
    html = client.get(reverse("billing:outbox")).content.decode()
    assert "drop dir missing" in html
    with mock.patch("billing.views.invoices.invoice_send_on_commit") as send:
        client.post(reverse("billing:invoice_send", args=[invoice.pk]))
    send.assert_called_once_with(invoice.pk)


@pytest.mark.django_db
def test_the_invoice_list_filters_and_pins_its_queries(
    client: Client, lent_device, tariffs, home_account, billing_officer, django_assert_num_queries
) -> None:
    out_of_region(lent_device)
    invoice = _issued(billing_officer)
    logged_in(client, billing_officer)
    client.get(reverse("billing:invoices"))  # warm the session and the menu's caches
    with django_assert_num_queries(6):
        html = client.get(reverse("billing:invoices")).content.decode()
    assert f">{invoice}</a>" in html
    month = f"{invoice.issue_date:%Y-%m}"
    shown = client.get(reverse("billing:invoices"), {"month": month, "kind": "credit_note"})
    # As the list's link names it: a CSRF token may hold the two characters by chance.
    assert f">{invoice}</a>" not in shown.content.decode()
    bad = client.get(reverse("billing:invoices"), {"month": "13-2026"})
    assert bad.status_code == 400


@pytest.mark.django_db
def test_kpi_3_losses_per_care_unit_as_an_accessible_chart_and_a_table(
    client: Client, rx, ordinary, rollator, central
) -> None:
    """Real loss cases, reported, decided and found again through the logistics services."""
    today = timezone.localdate()
    own = PrescribingUnit.objects.get(pk=rx.staff_profile.unit_id)
    other = PrescribingUnitFactory(unit=UnitFactory(name="Vårdcentralen Söder"))

    def lost(unit: Any, received_on: datetime.date) -> Any:
        device = lent(rx, ordinary, rollator, central, received_on=received_on)
        return loss_device_report(device_id=device.pk, unit_id=unit.pk, by=rx)

    # BILL-4: a new rollator is debited its purchase price (2 900); one bought long ago only
    # 20 % of it (580), under 1 000 SEK: written off, counted but worth nothing.
    for case in (lost(own, today), lost(own, today), lost(other, today)):
        assert loss_case_decide(case_id=case.pk, by=rx).debit_sek == Decimal("2900.00")
    old = loss_case_decide(case_id=lost(other, datetime.date(2015, 1, 1)).pk, by=rx)
    assert old.debit_sek == Decimal("0.00")
    # Found again: not a loss.
    store_worker = UserFactory(username="lager", role="logistics")
    loss_case_found(case_id=lost(own, today).pk, by=store_worker)

    logged_in(client, demo_user("billing"))
    html = client.get(reverse("billing:losses")).content.decode()
    assert 'role="img"' in html
    assert "<title" in html
    assert "<desc" in html
    # Ordered by unit name; the bars are scaled to the largest value (5 800 against 2 900).
    names = sorted([own.unit.name, other.unit.name])
    widths = [int(w) for w in re.findall(r'<rect [^>]*width="(\d+)"', html)]
    assert widths == ([300, 150] if names[0] == own.unit.name else [150, 300])
    assert "5800.00" in html
    assert "2900.00" in html
    assert "Vårdcentralen Söder" in html
    # A period without the losses shows none of them.
    earlier = client.get(reverse("billing:losses"), {"since": "2020-01-01", "until": "2020-12-31"})
    assert "Vårdcentralen Söder" not in earlier.content.decode()


@pytest.mark.django_db
def test_the_billing_role_lands_on_its_counts(
    client: Client, lent_device, tariffs, home_account, billing_officer
) -> None:
    out_of_region(lent_device)
    invoice = _issued(billing_officer)
    with transaction.atomic():
        transition_apply(machine=INVOICE_MACHINE, obj=invoice, to_state=InvoiceState.SENT)
        transition_apply(machine=INVOICE_MACHINE, obj=invoice, to_state=InvoiceState.REJECTED)
    html = logged_in(client, billing_officer).get("/start/").content.decode()
    assert re.search(r"Invoices rejected by the receiver.*?\b1\b", html, re.S)
    assert "Last month is not yet invoiced" in html


@pytest.mark.django_db
def test_bill_7_a_rejected_credit_note_is_sent_again_from_its_page_and_the_outbox(
    client: Client, lent_device, tariffs, home_account, billing_officer
) -> None:
    out_of_region(lent_device)
    invoice = _issued(billing_officer)
    note = credit_note_issue(invoice_id=invoice.pk, reason="Fel period", by=billing_officer)
    with transaction.atomic():
        for document in (invoice, note):
            transition_apply(machine=INVOICE_MACHINE, obj=document, to_state=InvoiceState.SENT)
            transition_apply(machine=INVOICE_MACHINE, obj=document, to_state=InvoiceState.REJECTED)
    logged_in(client, billing_officer)
    send = reverse("billing:invoice_send", args=[note.pk])
    page = client.get(reverse("billing:invoice", args=[note.pk])).content.decode()
    assert f'action="{send}"' in page
    # The wholly credited invoice has nothing left to replace: no way forward is offered.
    credited = client.get(reverse("billing:invoice", args=[invoice.pk])).content.decode()
    assert reverse("billing:invoice_replace", args=[invoice.pk]) not in credited
    outbox = client.get(reverse("billing:outbox"), {"state": "rejected"}).content.decode()
    assert f'action="{send}"' in outbox
    assert reverse("billing:invoice_send", args=[invoice.pk]) not in outbox
    # The start page counts the credit note, not the invoice it wholly credits.
    assert billing_counts(today=TODAY).rejected == 1
    response = client.post(send)
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.state == InvoiceState.ISSUED
    assert billing_counts(today=TODAY).rejected == 0
    # An invoice rejected is not sent again: it is credited and replaced.
    client.post(reverse("billing:invoice_send", args=[invoice.pk]))
    assert Invoice.objects.get(pk=invoice.pk).state == InvoiceState.REJECTED
