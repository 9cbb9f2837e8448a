"""Consumables (issue 14) in Chromium, on the seeded demo: the prescriber writes a consumable
prescription for Karl Lindqvist from his patient page; customer service finds him through the
search, opens it and registers a withdrawal, which becomes an order. Every page on the way is
Swedish, passes axe-core and reflows at 320 CSS pixels."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from prescriptions.models import Article, ConsumablePrescription, PrescriptionState
from tests.browser.test_daily_paths import KARL, AxeCheck, checked, go, start
from tests.browser.test_first_pages import PASSWORD, search
from tests.browser.test_logistics import reflow_overflow

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

NARROW = {"width": 320, "height": 800}
WIDE = {"width": 1280, "height": 800}
LANCETS = "51002"  # the sample catalogue's lancets (diabetes)


@pytest.fixture
def demo(shared_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)
    call_command("seed_demo", shared=shared_dir, stdout=io.StringIO())


def reflows(page: Page) -> None:
    page.set_viewport_size(NARROW)
    overflow = reflow_overflow(page)
    page.set_viewport_size(WIDE)
    assert not overflow, f"reflow at 320 px on {page.url}: {overflow}"


def open_karl(page: Page, axe_check: AxeCheck) -> None:
    search(page, KARL)
    checked(page, axe_check)
    link = page.locator(".search-result").get_by_role("link", name=re.compile("^Öppna patient"))
    go(page, link, axe_check)
    expect(page.locator("h1")).to_contain_text("Karl Lindqvist")


def test_consumables_a_consumable_prescription_with_a_withdrawal(
    page: Page, axe_check: AxeCheck, demo: None
) -> None:
    lancets = Article.objects.get(article_number=LANCETS)
    start(page, "prescriber", axe_check)
    open_karl(page, axe_check)
    section = page.locator("main")
    expect(section).to_contain_text("Förbrukningsartiklar")
    go(page, section.get_by_role("link", name="Ny förbrukningsordination"), axe_check)
    reflows(page)
    page.get_by_label("Artikel").select_option(str(lancets.pk))
    page.get_by_label("Antal per period").fill("2")
    page.get_by_label("Period", exact=True).select_option("1")
    page.get_by_label("Behov som hjälpmedlet ska tillgodose").fill(
        "Typ 1-diabetes, stick fyra gånger om dagen."
    )
    go(page, page.get_by_role("button", name="Spara förbrukningsordinationen"), axe_check)
    made = ConsumablePrescription.objects.get(article=lancets)
    expect(page.locator("h1")).to_contain_text(f"förbrukningsordination {made.reference}")
    expect(page.locator("main")).to_contain_text("Inga uttag ännu.")
    reflows(page)

    page.context.clear_cookies()
    start(page, "customer_service", axe_check)
    open_karl(page, axe_check)
    go(page, page.locator("main").get_by_role("link", name=made.reference), axe_check)
    expect(page.locator("main")).to_contain_text("Möjligt nu")
    page.get_by_label("Antal", exact=True).fill("2")
    go(page, page.get_by_role("button", name="Registrera uttaget"), axe_check)
    withdrawal = made.withdrawals.get()
    expect(page.locator("main")).to_contain_text(
        f"Uttaget är beställt som order {withdrawal.order.reference}."
    )
    expect(page.locator("main")).to_contain_text("2 uttagna, 0 kvar")
    reflows(page)
    assert withdrawal.order.state == PrescriptionState.APPROVED
