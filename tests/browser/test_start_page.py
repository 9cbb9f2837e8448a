"""Each role lands on its work (issue 15), in Chromium: every demo role logs in through the
login form, lands on the start page in Swedish, never on "Behörighet saknas", and the page and
its menu pass axe-core (no serious or critical violation)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from patients.demo import DEMO_USERS
from tests.browser.test_first_pages import log_in
from tests.config.test_start_page import demo_user

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.mark.parametrize("username", [user.username for user in DEMO_USERS])
def test_every_demo_role_lands_on_its_start_page(page: Page, axe_check, username: str) -> None:
    demo_user(username)
    log_in(page, username)
    assert page.url.endswith("/start/"), page.url
    expect(page.locator("h1")).to_have_text("Ditt arbete")
    assert "Behörighet saknas" not in page.content()
    expect(page.locator("main a").first).to_be_visible()
    axe_check(page)
