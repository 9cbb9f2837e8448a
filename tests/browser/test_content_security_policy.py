"""The pages satisfy the Content-Security-Policy in a real Chromium: no inline script or style
is blocked on the key pages, the admin's included."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import ConsoleMessage, Page

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PASSWORD = "pw-for-tests-only"  # tests.factories.UserFactory's password
# Collected in the page from the moment a document starts, before any of its own code runs.
LISTEN = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__cspViolations.push(event.violatedDirective + ' ' + (event.blockedURI || 'inline'));
});
"""


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    assert "/accounts/login/" not in page.url


def test_key_pages_raise_no_content_security_policy_violation(
    new_page: Callable[..., Page],
) -> None:
    UserFactory(username="skyddsadmin", role="protection_admin")
    UserFactory(username="root", is_superuser=True, is_staff=True)
    problems: list[str] = []
    console_messages: list[ConsoleMessage] = []
    for username, paths in (
        ("skyddsadmin", ["/", "/protection/review/", "/protection/review/sample/"]),
        ("root", ["/admin/", "/admin/auth/user/", "/admin/auth/user/add/"]),
    ):
        page = new_page()
        page.add_init_script(LISTEN)
        page.on("console", lambda message: console_messages.append(message))
        log_in(page, username)
        for path in paths:
            response = page.goto(path)
            assert response is not None, path
            assert response.ok, path
            assert "script-src 'self'" in (response.headers.get("content-security-policy") or "")
            problems += [f"{path}: {v}" for v in page.evaluate("window.__cspViolations")]
    problems += [m.text for m in console_messages if "Content Security Policy" in m.text]
    assert problems == []
