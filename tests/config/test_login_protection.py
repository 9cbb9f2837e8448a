"""Login throttling and lockout (django-axes), shown on the log review (ACCESS-10, AUDIT-3), and
the Content-Security-Policy every page is served with."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from protection.models import AccountEvent, AccountEventKind
from tests.factories import UserFactory
from tests.personas import logged_in

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-only"
LOGIN_URL = "/accounts/login/"


def attempt(client: Client, username: str, password: str) -> int:
    return client.post(LOGIN_URL, {"username": username, "password": password}).status_code


def test_access_10_repeated_failed_logins_lock_the_account_out_even_with_the_right_password():
    UserFactory(username="gissad")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "gissad", "fel-lösenord") == 200  # the form again, with an error
    assert attempt(client, "gissad", "fel-lösenord") == 429  # the last failure locks
    assert attempt(client, "gissad", PASSWORD) == 429
    # From another address too: the lockout is of the account, not of one machine.
    other = Client(REMOTE_ADDR="10.9.9.9")
    assert attempt(other, "gissad", PASSWORD) == 429


def test_access_10_audit_3_a_lockout_shows_on_the_log_review():
    victim = UserFactory(username="gissad")
    admin = UserFactory(username="skyddsadmin", role="protection_admin")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "gissad", "fel-lösenord")

    event = AccountEvent.objects.get(kind=AccountEventKind.LOCKED_OUT)
    assert event.subject_id == victim.pk
    page = logged_in(Client(), admin).get("/protection/review/").content.decode()
    assert "Locked out after failed logins" in page
    assert '<td class="aksel-table__data-cell">gissad</td>' in page


def test_access_10_a_lockout_of_a_name_that_is_no_account_keeps_nothing_typed():
    """What was typed as a username may be a personnummer: the review never shows it."""
    typed = "19891223-2389"
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, typed, "fel-lösenord")
    event = AccountEvent.objects.get(kind=AccountEventKind.LOCKED_OUT)
    assert event.subject_id is None
    assert typed not in event.detail


def test_a_successful_login_after_a_few_failures_is_let_in():
    UserFactory(username="glomsk")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "glomsk", "fel-lösenord")
    assert attempt(client, "glomsk", PASSWORD) == 302


@pytest.mark.parametrize("path", [LOGIN_URL, "/", "/protection/review/", "/admin/login/"])
def test_pages_carry_a_content_security_policy_without_inline_script(client, path):
    response = client.get(path)
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value
    assert directives.get("default-src") == "'self'"
    assert directives.get("script-src") == "'self'"
    assert directives.get("frame-ancestors") == "'none'"
    assert directives.get("object-src") == "'none'"
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
