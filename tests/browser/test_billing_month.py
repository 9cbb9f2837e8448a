"""README "The billing month" (issue 12) in Chromium, on the seeded demo, as ``billing``.

The officer previews and issues the demo month on *Fakturering*, sees each invoice's validation,
credits F1 with a reason on *Fakturor*, follows the invoices through the *Utkorg* while the
worker sends them to the file drop and the access point answers, and exports the month's
e-invoices and the finance file. The Swedish words asserted are the README's own, so that the
README and the pages cannot drift apart unnoticed; every billing page visited passes axe-core.

The worker's part (sending an invoice, reading the access point's reports) is the outbox
service that the Celery task calls, run here in the test's own process on committed rows.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from billing.demo import previous_month
from billing.models import FinanceExport, Invoice, InvoiceKind, InvoiceState
from billing.services.outbox import invoice_send, outbox_reports_collect
from tests.browser.test_daily_paths import (
    checked,
    demo,  # noqa: F401 (the seeded demo, a fixture)
    go,
    menu,
    start,
    start_item,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

AxeCheck = Callable[[Page], None]
STOCKHOLM = "Region Stockholm"
# The demo's people: none of them is ever named on a billing page or in a billing file.
PEOPLE = ("Olof Berg", "Eva Holm", "Maria Ek", "Karl Lindqvist")
NUMBERS = ("19420302-7018", "194203027018", "19420226-9207", "194202269207", "19420119-9124")


@pytest.fixture
def drop(settings: Any, tmp_path: Path) -> tuple[Path, Path]:
    """The access point's file drop (README: ``.local/peppol-outbox`` and ``-inbox``)."""
    settings.BILLING_OUTBOX_DIR = tmp_path / "peppol-outbox"
    settings.BILLING_INBOX_DIR = tmp_path / "peppol-inbox"
    settings.BILLING_INBOX_DIR.mkdir()
    return settings.BILLING_OUTBOX_DIR, settings.BILLING_INBOX_DIR


@pytest.fixture
def month(demo: None) -> str:  # noqa: F811 (the imported fixture, requested)
    """README: ``YYYY-MM`` is the month before the seeding day."""
    return f"{previous_month(timezone.localdate()):%Y-%m}"


def no_person(page: Page) -> None:
    """ACCESS-9, BILL-2: billing pages name invoices, regions and orders, never a patient."""
    text = page.locator("body").inner_text()
    named = [needle for needle in (*PEOPLE, *NUMBERS) if needle in text]
    assert not named, f"{page.url} names {named}"


def billing_page(page: Page, axe_check: AxeCheck) -> None:
    checked(page, axe_check)
    no_person(page)


def issue_the_month(page: Page, axe_check: AxeCheck, month: str) -> None:
    """README step 1: "Fakturering", the month and a region, "Förhandsgranska", then the
    confirmation and "Utfärda fakturorna": F1 to Region Stockholm, validated."""
    go(page, menu(page, "Fakturering"), axe_check)
    assert page.url.endswith("/billing/run/"), page.url
    expect(page.locator("h1")).to_have_text("Månadens fakturering")
    # The month offered is the demo month: the one before today's.
    expect(page.get_by_label("Månad")).to_have_value(month)
    page.get_by_label("Region").select_option(label=f"01 {STOCKHOLM}")
    go(page, page.get_by_role("button", name="Förhandsgranska"), axe_check)
    no_person(page)
    expect(page.locator("#result")).to_have_text("Förhandsgranskning: det som skulle utfärdas")
    preview = page.locator("main table").first.locator("tbody tr")
    expect(preview).to_have_count(1)
    expect(preview).to_contain_text(STOCKHOLM)
    expect(preview).to_contain_text("Giltig")
    assert not Invoice.objects.exists(), "the preview issued something"

    page.get_by_label(re.compile("^För att utfärda: jag bekräftar")).check()
    go(page, page.get_by_role("button", name="Utfärda fakturorna"), axe_check)
    no_person(page)
    expect(page.locator("#result")).to_have_text("Utfärdat")
    issued = page.locator("main table").first.locator("tbody tr")
    expect(issued).to_have_count(1)
    # The validation result per invoice, in words.
    expect(issued.locator("th")).to_have_text("F1")
    expect(issued).to_contain_text(STOCKHOLM)
    expect(issued.locator("td").last).to_have_text(re.compile(r"^Giltig"))
    expect(page.locator("main")).not_to_contain_text("Inte utfärdat")

    # README: run it again: nothing is invoiced twice.
    page.get_by_label(re.compile("^För att utfärda: jag bekräftar")).check()
    go(page, page.get_by_role("button", name="Utfärda fakturorna"), axe_check)
    expect(page.locator("main")).to_contain_text("Inga fakturor att utfärda.")
    assert Invoice.objects.filter(kind=InvoiceKind.INVOICE).count() == 1


def open_invoice(page: Page, axe_check: AxeCheck, number: str) -> None:
    """README step 2: "Fakturor", then the invoice by its number."""
    go(page, menu(page, "Fakturor"), axe_check)
    expect(page.locator("h1")).to_be_visible()
    no_person(page)
    go(page, page.locator("main table").get_by_role("link", name=number, exact=True), axe_check)
    no_person(page)


def worker_sends_everything(outbox: Path) -> list[Invoice]:
    """What the Celery worker does for each issued invoice: the file drop gets its UBL."""
    waiting = list(Invoice.objects.filter(state=InvoiceState.ISSUED).order_by("pk"))
    for invoice in waiting:
        assert invoice_send(invoice_id=invoice.pk)
        written = outbox / f"invoice-{invoice.pk}.xml"
        # Exactly as issued (BILL-7: an issued invoice never changes).
        assert written.read_bytes() == bytes(invoice.ubl_xml)
    return waiting


def test_bill_1_bill_7_readme_billing_month_issue_credit_outbox_export(
    page: Page,
    axe_check: AxeCheck,
    month: str,
    drop: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    """README "The billing month" 1 to 5 as written: the start page, preview and issue F1 to
    Region Stockholm with its validation, credit the whole of F1 by K1 with a reason, the
    outbox with its attempts and "Skicka igen", the file drop and the access point's answers,
    the month's e-invoices and the finance file, the manual-invoicing list and the exports."""
    outbox, inbox = drop
    start(page, "billing", axe_check)
    no_person(page)
    # README: the start page lists the month's run, the outbox, rejected invoices, lapsed
    # claims and the protected persons' lists.
    for label in (
        "Förra månaden är inte fakturerad (förhandsgranska och utfärda)",
        "Fakturor som väntar på att skickas",
        "Fakturor avvisade av mottagaren",
        "Preskriberade fordringar",
        "Manuell fakturering",
        "Konton vars innehavare fått skyddade personuppgifter",
        "Ekonomiexporter",
    ):
        expect(start_item(page, label)).to_be_visible()

    issue_the_month(page, axe_check, month)
    f1 = Invoice.objects.get(kind=InvoiceKind.INVOICE)
    assert str(f1) == "F1"
    assert f1.buyer_name == STOCKHOLM

    # Step 2: the whole invoice credited (no line ticked), with a reason and the confirmation.
    open_invoice(page, axe_check, "F1")
    expect(page.locator("h1")).to_have_text("Faktura F1")
    # The invoice page also downloads the UBL XML and the PDF.
    with page.expect_download() as xml_download:
        page.get_by_role("link", name="Ladda ner e-fakturan (XML)").click()
    assert Path(xml_download.value.path()).read_bytes() == bytes(f1.ubl_xml)
    expect(page.get_by_role("link", name="Fakturan som PDF")).to_be_visible()
    page.get_by_label("Orsak").fill("Fel period i beställningen.")
    page.get_by_label("Jag bekräftar att en kreditnota ska utfärdas och skickas").check()
    go(page, page.get_by_role("button", name="Utfärda kreditnotan"), axe_check)
    no_person(page)
    expect(page.locator("h1")).to_have_text("Kreditnota K1")
    expect(page.locator("main")).to_contain_text(
        "Kreditnota K1 utfärdad (skäl: Fel period i beställningen.)."
    )
    expect(page.locator("main dl").get_by_role("link", name="F1", exact=True)).to_be_visible()
    k1 = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    assert k1.credited_invoice_id == f1.pk
    assert k1.lines.count() == f1.lines.count()

    # Step 3: both wait in the outbox, with their attempts and "Skicka igen".
    go(page, menu(page, "Utkorg"), axe_check)
    no_person(page)
    expect(page.locator("h1")).to_have_text("Utkorgen")
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(2)
    for number in ("F1", "K1"):
        row = rows.filter(has=page.get_by_role("link", name=number, exact=True))
        expect(row).to_contain_text(STOCKHOLM)
        expect(row.get_by_role("button", name="Skicka igen")).to_be_visible()

    sent = worker_sends_everything(outbox)
    assert [str(invoice) for invoice in sent] == ["F1", "K1"]
    (inbox / f"invoice-{f1.pk}.delivered").write_text("", encoding="utf-8")
    (inbox / f"invoice-{k1.pk}.rejected").write_text("Okänd köparreferens.", encoding="utf-8")
    assert outbox_reports_collect() == {"delivered": 1, "rejected": 1, "unmatched": 0}

    page.reload()
    billing_page(page, axe_check)
    expect(page.locator("main")).to_contain_text("Inga fakturor i detta läge.")
    go(page, page.get_by_role("link", name="Levererad"), axe_check)
    delivered = page.locator("main table tbody tr")
    expect(delivered).to_have_count(1)
    expect(delivered.locator("th")).to_have_text("F1")
    # One send attempt, no error left.
    expect(delivered.locator("td").nth(2)).to_have_text("1")
    expect(delivered.locator("td").nth(3)).to_have_text("\N{EN DASH}")

    # Step 4: the month's e-invoices, one UBL file per invoice and credit note, as issued.
    exported = tmp_path / "e-invoices"
    out = io.StringIO()
    call_command("export_invoices", "--month", month, "--out", str(exported), stdout=out)
    summary: dict[str, Any] = json.loads(out.getvalue())
    assert summary["files"] == ["F1.xml", "K1.xml"], summary
    assert (exported / "F1.xml").read_bytes() == bytes(f1.ubl_xml)

    # Step 5: the finance file of the month the invoices were issued in, then again.
    issued_month = timezone.localdate().strftime("%Y-%m")
    written: dict[str, list[bytes]] = {"fixed": [], "sie": []}
    for export_format in ("fixed", "sie", "fixed", "sie"):
        out_file = tmp_path / f"finans-{export_format}.txt"
        call_command(
            "finance_export",
            *("--month", issued_month, "--out", str(out_file), "--format", export_format),
            *("--user", "billing"),
            stdout=io.StringIO(),
        )
        written[export_format].append(out_file.read_bytes())
    # Run it again: the same file, nothing exported twice.
    assert all(first == again for first, again in written.values())
    exports = FinanceExport.objects.values_list("format", "invoice_count").order_by("format")
    assert list(exports) == [("fixed", 2), ("sie", 2)]
    for first, _again in written.values():
        text = first.decode("latin-1")
        assert not [needle for needle in (*PEOPLE, *NUMBERS) if needle in text]

    # The finance file is listed; the protected persons' lists and the claims pages open.
    page.goto("/start/")
    go(page, start_item(page, "Ekonomiexporter"), axe_check)
    no_person(page)
    expect(page.locator("main table tbody tr")).to_have_count(FinanceExport.objects.count())
    for label in (
        "Manuell fakturering",
        "Konton vars innehavare fått skyddade personuppgifter",
        "Preskriberade fordringar",
    ):
        page.goto("/start/")
        go(page, start_item(page, label), axe_check)
        no_person(page)


def test_bill_7_readme_a_rejected_invoice_is_credited_and_issued_anew(
    page: Page, axe_check: AxeCheck, month: str, drop: tuple[Path, Path]
) -> None:
    """README "The billing month" 3: the access point rejects F1; its page offers "Kreditera
    och utfärda en ny faktura", which credits it (K1) and issues F2. Once replaced, F1 offers
    it no more, and neither the outbox nor the start page asks for it again."""
    outbox, inbox = drop
    start(page, "billing", axe_check)
    issue_the_month(page, axe_check, month)
    f1 = Invoice.objects.get(kind=InvoiceKind.INVOICE)
    worker_sends_everything(outbox)
    (inbox / f"invoice-{f1.pk}.rejected").write_text("Okänd köparreferens.", encoding="utf-8")
    assert outbox_reports_collect()["rejected"] == 1

    page.goto("/start/")
    go(page, start_item(page, "Fakturor avvisade av mottagaren"), axe_check)
    no_person(page)
    rejected = page.locator("main table tbody tr")
    expect(rejected).to_have_count(1)
    go(page, rejected.get_by_role("link", name="Kreditera och ersätt"), axe_check)
    no_person(page)
    expect(page.locator("h1")).to_have_text("Faktura F1")
    expect(page.locator("main dl")).to_contain_text("avvisad av mottagaren")
    go(page, page.get_by_role("button", name="Kreditera och utfärda en ny faktura"), axe_check)
    no_person(page)
    expect(page.locator("h1")).to_have_text("Faktura F2")
    expect(page.locator("main")).to_contain_text("Krediterad och ersatt av F2.")
    k1 = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    assert str(k1) == "K1"
    assert k1.credited_invoice_id == f1.pk

    # F1 is dealt with: its page shows its credit note and offers nothing more to do.
    open_invoice(page, axe_check, "F1")
    expect(page.locator("main dl").get_by_role("link", name="K1", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Kreditera och utfärda en ny faktura")).to_have_count(0)
    page.goto("/billing/outbox/?state=rejected")
    billing_page(page, axe_check)
    expect(page.get_by_role("link", name="Kreditera och ersätt")).to_have_count(0)
    page.goto("/start/")
    expect(start_item(page, "Fakturor avvisade av mottagaren")).to_have_text(
        "Fakturor avvisade av mottagaren: 0"
    )
