"""The first pages in a real Chromium: login, patient search, the patient page, print, access.

Every identity number here is one of Skatteverket's test personnummer (IDENT-4).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from patients.models import AccessAction, AccessEntry, AccessOutcome
from tests.factories import PatientIdentityFactory, UserFactory
from tests.personas import ORDINARY_NUMBER as ORDINARY
from tests.personas import PROTECTED_NUMBER as PROTECTED

# serialized_rollback: each test starts with the rows the migrations load (regions, roles).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PASSWORD = "pw-for-tests-only"  # tests.factories.UserFactory's password
SWEDISH_CATALOGUE = Path(settings.BASE_DIR) / "locale" / "sv" / "LC_MESSAGES" / "django.mo"


def number_forms(canonical: str) -> list[str]:
    """Every way the number may be written (IDENT-1)."""
    short = canonical[2:]
    return [canonical, f"{canonical[:8]}-{canonical[8:]}", short, f"{short[:6]}-{short[6:]}"]


def leaks(text: str, *needles: str) -> list[str]:
    return [needle for needle in needles if needle in text]


def tab_to(page: Page, selector: str, max_presses: int = 40) -> None:
    """Press Tab until the element has the focus, as a keyboard user would."""
    target = page.locator(selector)
    for _ in range(max_presses):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{selector} was not reached with {max_presses} presses of Tab")


def focused_id(page: Page) -> str:
    return str(page.evaluate("document.activeElement.id"))


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    assert "/accounts/login/" not in page.url, f"login as {username} failed: still on {page.url}"


def search(page: Page, typed: str) -> None:
    page.locator("#id_number").fill(typed)
    with page.expect_navigation():
        page.locator("form[role=search] button[type=submit]").click()


def html_lang(page: Page) -> str:
    return str(page.evaluate("document.documentElement.lang"))


@pytest.fixture
def ordinary():
    return PatientIdentityFactory(
        personal_identity_number=ORDINARY, given_names="Karin", surname="Nilsson"
    )


def protected_secrets() -> tuple[str, ...]:
    return (*number_forms(PROTECTED), "Hemlig", "Gömdasson", "Gömdavägen", "21120")


# --- keyboard-only journey ---------------------------------------------------------------------


def test_audit_1_leak_1_keyboard_only_login_search_and_open_patient(
    page, visited_urls, prescriber, ordinary
):
    """LEAK-1: a prescriber, keyboard only, finds a patient by YYMMDD-NNNN; no URL has the number.

    AUDIT-1: the search hit and the read of the patient page are each in the access log.
    """
    page.goto("/accounts/login/")
    tab_to(page, "#id_username")
    page.keyboard.type("anna")
    page.keyboard.press("Tab")
    assert focused_id(page) == "id_password"
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # The prescriber lands on the start page, whose patient search is where the day starts.
    assert re.fullmatch(r"http://[^/]+/start/", page.url), page.url

    tab_to(page, "#id_number")
    page.keyboard.type(f"{ORDINARY[2:8]}-{ORDINARY[8:]}")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    result = page.locator(".search-result")
    expect(result.locator(".patient-card")).to_contain_text("Karin Nilsson")
    # The number is not echoed back into the search field.
    expect(page.locator("#id_number")).to_have_value("")

    reference = ordinary.patient.reference
    tab_to(page, f".search-result a[href='/patients/{reference}/']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/patients/{reference}/"), page.url
    expect(page.locator("h1")).to_contain_text(reference)
    expect(page.locator(".patient-card")).to_contain_text("Karin Nilsson")

    assert visited_urls, "no navigation was recorded"
    assert not leaks(" ".join(visited_urls), *number_forms(ORDINARY)), visited_urls
    entries = list(
        AccessEntry.objects.filter(patient_id=ordinary.patient_id)
        .order_by("at", "pk")
        .values_list("user_id", "action", "outcome")
    )
    assert entries == [
        (prescriber.pk, AccessAction.SEARCH_HIT, AccessOutcome.ALLOWED),
        (prescriber.pk, AccessAction.READ, AccessOutcome.ALLOWED),
    ]


# --- protected patient -------------------------------------------------------------------------


@pytest.mark.parametrize("typed", [PROTECTED, f"{PROTECTED[:8]}-{PROTECTED[8:]}"])
def test_access_1_leak_1_audit_1_protected_patient_search_shows_only_masked_card(
    page, visited_urls, prescriber, protected, typed
):
    """ACCESS-1, LEAK-1: searched by the full number, a protected patient shows the masked card
    only, on the result and on the patient page: no name, no number, no address anywhere in the
    page and no number in any URL the browser visited. AUDIT-1: both reads are logged, denied.
    """
    log_in(page, "anna")
    search(page, typed)
    expect(page.locator(".search-result .patient-card.masked")).to_be_visible()
    assert not leaks(page.content(), *protected_secrets())

    reference = protected.patient.reference
    # The masked card offers no link to the patient page; open it as if the address were typed.
    expect(page.locator(f".search-result a[href='/patients/{reference}/']")).to_have_count(0)
    page.goto(f"/patients/{reference}/")
    expect(page.locator(".patient-card.masked")).to_be_visible()
    assert not leaks(page.content(), *protected_secrets())

    assert not leaks(page.url, *number_forms(PROTECTED))
    assert not leaks(" ".join(visited_urls), *number_forms(PROTECTED)), visited_urls
    entries = list(
        AccessEntry.objects.filter(patient_id=protected.patient_id)
        .order_by("at", "pk")
        .values_list("user_id", "action", "outcome", "patient_protected")
    )
    assert entries == [
        (prescriber.pk, AccessAction.SEARCH_HIT, AccessOutcome.DENIED, True),
        (prescriber.pk, AccessAction.READ, AccessOutcome.DENIED, True),
    ]


VISIBLE_OUTSIDE_PRINT_NOTICE = """() => Array.from(document.body.querySelectorAll('*'))
  .filter(element => !element.closest('.print-notice'))
  .filter(element => getComputedStyle(element).visibility === 'visible')
  .map(element => `${element.tagName.toLowerCase()}.${element.className}`)
"""


def test_print_1_browser_print_of_protected_patient_page_shows_only_the_notice(
    page, prescriber, protected
):
    """PRINT-1 for the browser's own print: the print stylesheet hides everything but the notice."""
    log_in(page, "anna")
    page.goto(f"/patients/{protected.patient.reference}/")
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator(".print-notice")).to_be_hidden()

    page.emulate_media(media="print")
    expect(page.locator(".print-notice")).to_be_visible()
    for selector in ("h1", ".patient-card", ".page-header", "nav", "a[href='#main']"):
        assert not page.locator(selector).first.is_visible(), f"{selector} is visible in print"
    assert page.evaluate(VISIBLE_OUTSIDE_PRINT_NOTICE) == []


def test_ordinary_patient_page_prints_normally(page, prescriber, ordinary):
    """The print stylesheet is only on protected patients' pages: others print their content."""
    log_in(page, "anna")
    page.goto(f"/patients/{ordinary.patient.reference}/")
    page.emulate_media(media="print")
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator(".patient-card")).to_contain_text("Karin Nilsson")
    expect(page.locator(".print-notice")).to_have_count(0)


# --- accessibility (axe-core) and language -----------------------------------------------------


def test_axe_login_page(page, axe_check):
    page.goto("/accounts/login/")
    assert html_lang(page) == "sv"
    axe_check(page)


def test_axe_search_page_with_result(page, axe_check, prescriber, ordinary):
    log_in(page, "anna")
    search(page, ORDINARY)
    expect(page.locator(".search-result .patient-card")).to_be_visible()
    assert html_lang(page) == "sv"
    axe_check(page)


def test_axe_search_page_without_match(page, axe_check, prescriber):
    log_in(page, "anna")
    search(page, ORDINARY)
    expect(page.locator(".search-result [role=status]")).to_be_visible()
    assert html_lang(page) == "sv"
    axe_check(page)


def test_axe_search_with_validation_error(page, axe_check, visited_urls, prescriber):
    log_in(page, "anna")
    search(page, "12345")
    expect(page.locator("#id_number_error")).to_be_visible()
    assert html_lang(page) == "sv"
    assert "12345" not in " ".join(visited_urls)
    axe_check(page)


def test_axe_patient_page(page, axe_check, prescriber, ordinary):
    log_in(page, "anna")
    page.goto(f"/patients/{ordinary.patient.reference}/")
    expect(page.locator(".patient-card")).to_contain_text("Karin Nilsson")
    assert html_lang(page) == "sv"
    axe_check(page)


def test_axe_masked_patient_page(page, axe_check, prescriber, protected):
    log_in(page, "anna")
    page.goto(f"/patients/{protected.patient.reference}/")
    expect(page.locator(".patient-card.masked")).to_be_visible()
    assert html_lang(page) == "sv"
    axe_check(page)


def test_swedish_is_the_default_even_when_the_browser_asks_for_english(
    new_page: Callable[..., Page],
):
    page = new_page(locale="en-US")
    page.goto("/accounts/login/")
    assert html_lang(page) == "sv"
    # English is the user's explicit choice, kept in the language cookie.
    page.get_by_role("button", name="English").click()
    assert html_lang(page) == "en"


# --- denied by role ----------------------------------------------------------------------------


@pytest.fixture
def logistics():
    return UserFactory(username="lars", role="logistics")


def test_user_without_patient_permission_gets_an_accessible_403_page(
    page, axe_check, logistics, ordinary
):
    """A role without patient access gets a proper 403 page on search and on the patient page."""
    log_in(page, "lars")
    for path in ("/", f"/patients/{ordinary.patient.reference}/"):
        response = page.goto(path)
        assert response is not None
        assert response.status == 403, f"{path}: {response.status}"
        expect(page.locator("h1")).to_be_visible()
        assert page.title().strip()
        assert html_lang(page) == "sv"
        assert "Karin" not in page.content()
        assert page.locator("#id_number").count() == 0
        axe_check(page)


def test_access_denied_page_says_behorighet_saknas_in_swedish(page, logistics):
    """The 403 page in Swedish, in the users' own words ("Behörighet saknas")."""
    if not SWEDISH_CATALOGUE.is_file():
        pytest.skip(f"{SWEDISH_CATALOGUE} is not compiled: run `make messages`")
    log_in(page, "lars")
    page.goto("/")
    expect(page.locator("h1")).to_have_text("Behörighet saknas")
