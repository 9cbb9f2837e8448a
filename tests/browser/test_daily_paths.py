"""Each demo role's working day, in Chromium, on the seeded demo (issue 15, README "Try the demo").

Every role logs in through the login form, lands on *Ditt arbete*, follows its start page or its
menu to its main work and does one real step there. Every page on the way is in Swedish, never
says "Behörighet saknas" and passes axe-core (no serious or critical violation). The Swedish
texts asserted are quoted word for word from the README's walkthroughs where it quotes them, so
that the README and the pages cannot drift apart unnoticed.

The long prescribing and logistics flows have their own tests (test_prescribing.py,
test_logistics.py); these paths are each role's first steps of the day.

Every identity number here is one of Skatteverket's test personnummer in the sample Navet file.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Locator, Page, expect

from protection.models import Grant, GrantRequest, GrantRequestStatus
from tests.browser.test_first_pages import PASSWORD, log_in, search

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

KARL = "19420107-7098"
EVA = "19420226-9207"
MARIA = "19420119-9124"
NO_ACCESS = "Behörighet saknas"
MASKED_CARD_REFUSAL = "Du får inte se uppgifter om den här patienten."

AxeCheck = Callable[[Page], None]


@pytest.fixture
def demo(shared_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo as ``make demo`` seeds it (every floor's demo data), with the tests' password."""
    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)
    call_command("seed_demo", shared=shared_dir, stdout=io.StringIO())


def checked(page: Page, axe_check: AxeCheck, *, masked_card: bool = False) -> None:
    """What every page on a daily path must be: Swedish, no refusal, no serious axe finding.

    ``masked_card``: the page is a search that found a protected patient the user holds no
    grant for; the masked card says so ("Behörighet saknas. Du får inte se uppgifter om den här
    patienten."), and that one sentence is the truth, not a page refused."""
    assert page.evaluate("document.documentElement.lang") == "sv", page.url
    content = page.content()
    if masked_card:
        content = content.replace(f"{NO_ACCESS}. {MASKED_CARD_REFUSAL}", "", 1)
    assert NO_ACCESS not in content, f"{NO_ACCESS} on {page.url}"
    axe_check(page)


def go(page: Page, link: Locator, axe_check: AxeCheck) -> None:
    """Follow a link as the user does, then check the page it opens."""
    with page.expect_navigation():
        link.click()
    checked(page, axe_check)


def start(page: Page, username: str, axe_check: AxeCheck) -> None:
    """README: you land on *Ditt arbete*."""
    log_in(page, username)
    assert page.url.endswith("/start/"), page.url
    expect(page.locator("h1")).to_have_text("Ditt arbete")
    checked(page, axe_check)


def start_item(page: Page, label: str) -> Locator:
    """A start page item by its label; its count, if any, follows the label."""
    return page.locator("main").get_by_role("link", name=re.compile(rf"^{re.escape(label)}"))


def menu(page: Page, label: str) -> Locator:
    return page.get_by_role("navigation").get_by_role("link", name=label, exact=True)


def test_prescriber_finds_karl_lindqvist_and_opens_his_prescriptions(
    page: Page, axe_check: AxeCheck, demo: None
) -> None:
    """README "Try the demo" 1 and "Prescribing" 1: search, the patient page headed by name and
    personnummer, then *Hjälpmedel och förskrivningar* with *Ny förskrivning*."""
    start(page, "prescriber", axe_check)
    search(page, KARL)
    checked(page, axe_check)
    card = page.locator(".search-result .patient-card")
    expect(card).to_contain_text("Karl Lindqvist")
    open_patient = page.locator(".search-result").get_by_role(
        "link", name=re.compile("^Öppna patient")
    )
    go(page, open_patient, axe_check)
    expect(page.locator("h1")).to_contain_text(f"Karl Lindqvist, {KARL}")
    go(page, page.get_by_role("link", name="Hjälpmedel och förskrivningar"), axe_check)
    expect(page.locator("h1")).to_contain_text(f"Karl Lindqvist, {KARL}")
    expect(page.get_by_role("button", name="Ny förskrivning")).to_be_visible()


def test_prescriber2_confirms_the_password_and_opens_eva_holm(
    page: Page, axe_check: AxeCheck, demo: None
) -> None:
    """README "Try the demo" 3 (ACCESS-4): a grant holder searching a protected patient sees the
    masked card with *Bekräfta ditt lösenord för att öppna patienten* first, is asked for the
    password again, and then sees her; ``prescriber2`` holds the demo's grant for Eva Holm."""
    start(page, "prescriber2", axe_check)
    search(page, EVA)
    checked(page, axe_check)
    card = page.locator(".search-result")
    expect(card).to_contain_text("Skyddade personuppgifter")
    expect(card).not_to_contain_text("Eva Holm")
    step_up = card.get_by_role("link", name="Bekräfta ditt lösenord för att öppna patienten")
    go(page, step_up, axe_check)
    expect(page.locator("h1")).to_have_text("Bekräfta ditt lösenord")
    page.locator("#id_password").fill(PASSWORD)
    go(page, page.locator("main").get_by_role("button", name="Bekräfta", exact=True), axe_check)
    expect(page.locator("h1")).to_contain_text(f"Eva Holm, {EVA}")


def test_customer_service_opens_the_quarantine_and_the_messages(
    page: Page, axe_check: AxeCheck, demo: None
) -> None:
    """Customer service's calls to handle: the register's quarantine in the Swedish admin."""
    start(page, "customer_service", axe_check)
    go(page, start_item(page, "Registerposter i karantän att hantera"), axe_check)
    assert "/admin/patients/quarantinedrecord/" in page.url, page.url
    expect(page.locator("#content h1")).to_be_visible()
    page.goto("/start/")
    go(page, start_item(page, "Olästa meddelanden"), axe_check)
    expect(page.locator("h1")).to_have_text("Meddelanden")


def test_logistics_opens_the_wave_for_the_next_delivery_day(
    page: Page, axe_check: AxeCheck, demo: None
) -> None:
    """README "Logistics" 1: *Ditt arbete*, whose *Logistik* lists the store's queues; open
    *Plockvågor att plocka* and the wave: Karl Lindqvist's rollator is on it, with
    *Skriv ut plocklistan (PDF)*."""
    start(page, "logistics", axe_check)
    expect(page.locator("main h2", has_text="Logistik")).to_be_visible()
    go(page, start_item(page, "Plockvågor att plocka"), axe_check)
    waves = page.locator("main table tbody a")
    expect(waves.first).to_be_visible()
    go(page, waves.first, axe_check)
    expect(page.get_by_role("button", name="Skriv ut plocklistan (PDF)")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Rollator Gloss")


def test_technician_finds_a_rollator_in_the_device_register(
    page: Page, axe_check: AxeCheck, demo: None
) -> None:
    """README "Logistics" 3: the device card (*Hjälpmedel*, search GL-2026-0001)."""
    start(page, "technician", axe_check)
    go(page, menu(page, "Hjälpmedel"), axe_check)
    page.locator("#id_serial").fill("GL-2026-0001")
    # A whole serial number, as a scanner types it, opens the device card at once.
    go(page, page.locator("main").get_by_role("button", name="Sök", exact=True), axe_check)
    assert re.search(r"/logistics/devices/\d+/$", page.url), page.url
    expect(page.locator("h1")).to_contain_text("GL-2026-0001")
    expect(page.locator("main")).to_contain_text("Rollator Gloss")


def test_unit_manager_requests_access_for_staff_to_a_protected_patient(
    page: Page, axe_check: AxeCheck, demo: None
) -> None:
    """The unit manager's requests: the waiting one on the start page, and a new one for Maria
    Ek from her masked card, naming the staff member and the case (ACCESS-3)."""
    start(page, "unit_manager", axe_check)
    go(page, start_item(page, "Enhetens behörighetsansökningar som väntar på beslut"), axe_check)
    expect(page.locator("main")).to_contain_text("ÄR-2026-1")
    go(page, menu(page, "Sök patient"), axe_check)
    search(page, MARIA)
    checked(page, axe_check, masked_card=True)
    expect(page.locator(".search-result")).to_contain_text("Skyddade personuppgifter")
    go(page, page.get_by_role("button", name="Ansök om behörighet för medarbetare"), axe_check)
    page.get_by_label("Petra Arbetsterapeut").check()
    page.locator("#id_case_reference").fill("ÄR-2026-9")
    page.locator("#id_ends_on").fill("2027-01-31")
    page.locator("#id_reason").fill("Hembesök för utprovning av rollator.")
    go(page, page.get_by_role("button", name="Skicka ansökan"), axe_check)
    request = GrantRequest.objects.get(case_reference="ÄR-2026-9")
    assert request.status == GrantRequestStatus.REQUESTED
    assert [user.username for user in request.staff.all()] == ["prescriber"]


def test_protection_admin_grants_request_ar_2026_1(
    page: Page, axe_check: AxeCheck, demo: None
) -> None:
    """README "Try the demo" 2 and 5: *Behörighetsansökningar*, ÄR-2026-1 for ``prescriber`` to
    see Eva Holm, granted; then *Loggkontroll*."""
    start(page, "protection_admin", axe_check)
    go(page, start_item(page, "Behörighetsansökningar att besluta om"), axe_check)
    expect(page.locator("h1")).to_have_text("Behörighetsansökningar")
    go(page, page.get_by_role("link", name="ÄR-2026-1"), axe_check)
    expect(page.locator("main")).to_contain_text("Vilka har redan behörighet")
    page.get_by_label("Bevilja").check()
    go(page, page.get_by_role("button", name="Registrera beslut"), axe_check)
    decided = GrantRequest.objects.get(case_reference="ÄR-2026-1")
    assert decided.status == GrantRequestStatus.GRANTED
    assert Grant.objects.filter(user__username="prescriber", patient=decided.patient).exists()
    go(page, menu(page, "Loggkontroll"), axe_check)
    expect(page.locator("h1")).to_have_text("Loggkontroll")


def test_billing_reads_its_messages(page: Page, axe_check: AxeCheck, demo: None) -> None:
    """Billing's work arrives with a later issue; today its start page leads to its messages."""
    start(page, "billing", axe_check)
    go(page, start_item(page, "Olästa meddelanden"), axe_check)
    expect(page.locator("h1")).to_have_text("Meddelanden")


def test_admin_opens_the_swedish_administration_and_finds_a_patient(
    page: Page, axe_check: AxeCheck, demo: None
) -> None:
    """The superuser's menu offers only what opens: the administration, in Swedish, and the
    patient search."""
    start(page, "admin", axe_check)
    go(page, menu(page, "Administration"), axe_check)
    expect(page.locator("#content h1")).to_be_visible()
    page.goto("/start/")
    go(page, menu(page, "Sök patient"), axe_check)
    search(page, KARL)
    checked(page, axe_check)
    expect(page.locator(".search-result .patient-card")).to_contain_text("Karl Lindqvist")


def test_readme_try_the_demo_steps_1_to_5(
    new_page: Callable[..., Page], axe_check: AxeCheck, demo: None
) -> None:
    """README "Try the demo" 1 to 5 as written (ACCESS-1, ACCESS-3, ACCESS-4, ACCESS-7): the
    prescriber sees Eva Holm masked; the protection administrator grants ÄR-2026-1; the
    prescriber confirms the password and sees her; Maria Ek opens only by breaking the glass;
    the log review shows that emergency access first."""
    prescriber = new_page()
    start(prescriber, "prescriber", axe_check)
    search(prescriber, EVA)
    checked(prescriber, axe_check, masked_card=True)
    expect(prescriber.locator(".search-result")).to_contain_text("Skyddade personuppgifter")
    expect(prescriber.locator(".search-result")).not_to_contain_text("Eva Holm")

    admin = new_page()
    start(admin, "protection_admin", axe_check)
    go(admin, menu(admin, "Behörighetsansökningar"), axe_check)
    go(admin, admin.get_by_role("link", name="ÄR-2026-1"), axe_check)
    admin.get_by_label("Bevilja").check()
    go(admin, admin.get_by_role("button", name="Registrera beslut"), axe_check)

    search(prescriber, EVA)
    checked(prescriber, axe_check)
    step_up = prescriber.locator(".search-result").get_by_role(
        "link", name="Bekräfta ditt lösenord för att öppna patienten"
    )
    go(prescriber, step_up, axe_check)
    prescriber.locator("#id_password").fill(PASSWORD)
    go(
        prescriber,
        prescriber.locator("main").get_by_role("button", name="Bekräfta", exact=True),
        axe_check,
    )
    expect(prescriber.locator("h1")).to_contain_text(f"Eva Holm, {EVA}")

    go(prescriber, menu(prescriber, "Sök patient"), axe_check)
    search(prescriber, MARIA)
    checked(prescriber, axe_check, masked_card=True)
    go(prescriber, prescriber.get_by_role("button", name="Nödåtkomst (bryt glaset)"), axe_check)
    prescriber.locator("#id_reason").fill("Akut utprovning, patienten kan inte vänta.")
    go(prescriber, prescriber.get_by_role("button", name="Öppna med nödåtkomst"), axe_check)
    expect(prescriber.locator("h1")).to_contain_text(f"Maria Ek, {MARIA}")

    go(admin, menu(admin, "Loggkontroll"), axe_check)
    emergencies = admin.locator("section[aria-labelledby=emergencies-heading]")
    expect(emergencies.locator("tbody tr")).to_have_count(1)
    # Staff by name, not by username (the log review names people).
    expect(emergencies).to_contain_text("Petra Arbetsterapeut")
