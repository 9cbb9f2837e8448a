"""STAFF-1 in Chromium, on the seeded demo: a member of staff applies for the unit orderer's
right, the unit's manager confirms, customer service (the account administration) approves, and
the new role works: the replenishment page is in the applicant's menu and opens. Every page on
the way is Swedish and passes axe-core."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from prescriptions.models import StaffApplication, StaffApplicationState
from tests.browser.test_daily_paths import AxeCheck, checked, go, menu, start, start_item
from tests.browser.test_first_pages import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def demo(shared_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)
    call_command("seed_demo", shared=shared_dir, stdout=io.StringIO())


def log_out(page: Page) -> None:
    page.context.clear_cookies()


def test_staff_1_an_application_applied_confirmed_approved_and_the_role_works(
    page: Page, axe_check: AxeCheck, demo: None
) -> None:
    # Bo in billing applies to order for Rehabenheten Malmö's buffer store.
    start(page, "billing", axe_check)
    expect(menu(page, "Lagerpåfyllnad")).to_have_count(0)
    go(page, menu(page, "Ansök om behörighet"), axe_check)
    page.get_by_label("Beställare till enhet").check()
    page.get_by_label("Enhet", exact=True).select_option(label="Rehabenheten Malmö")
    page.get_by_label("Titel").fill("Undersköterska")
    # A mistake keeps what was typed and names the field.
    go(page, page.get_by_role("button", name="Skicka ansökan"), axe_check)
    expect(page.locator("#id_hsa_id_error")).to_be_visible()
    expect(page.get_by_label("Titel")).to_have_value("Undersköterska")
    page.get_by_label("HSA-id").fill("SE2321000255-U008")
    go(page, page.get_by_role("button", name="Skicka ansökan"), axe_check)
    application = StaffApplication.objects.get(applicant__username="billing")
    expect(page.get_by_role("link", name=application.reference)).to_be_visible()
    log_out(page)

    # Ulla, the unit's manager, confirms from her start page.
    start(page, "unit_manager", axe_check)
    go(page, start_item(page, "Ansökningar som väntar på dig"), axe_check)
    go(page, page.get_by_role("link", name=application.reference), axe_check)
    go(page, page.get_by_role("button", name="Intyga ansökan"), axe_check)
    log_out(page)

    # Kim in customer service approves.
    start(page, "customer_service", axe_check)
    go(page, start_item(page, "Ansökningar som väntar på dig"), axe_check)
    go(page, page.get_by_role("link", name=application.reference), axe_check)
    go(page, page.get_by_role("button", name="Bevilja"), axe_check)
    application.refresh_from_db()
    assert application.state == StaffApplicationState.APPROVED
    assert list(application.transitions.values_list("to_state", flat=True)) == [
        "submitted",
        "confirmed",
        "approved",
    ]
    log_out(page)

    # Bo's new role works: the unit's replenishment is in his menu and opens.
    start(page, "billing", axe_check)
    go(page, menu(page, "Lagerpåfyllnad"), axe_check)
    checked(page, axe_check)
