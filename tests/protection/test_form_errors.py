"""Every form of the protection pages and the login pages shows its errors next to the fields
and in a summary at the top, in Swedish, and keeps what was typed (WCAG 3.3.1).

The browser's own bubbles (HTML ``required``) never stand in for the product's errors: every
form on these pages carries ``novalidate``, so the server's messages are the ones shown."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from lxml import html

from protection.models import GrantRequest
from protection.services.emergency import emergency_access_open
from tests.factories import UnitFactory, UserFactory
from tests.personas import ctx_for, masked_token, protected_identity_create

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
PASSWORD = "pw-for-tests-only"
REASON = "Ambulansutryckning, medvetslös patient"
# The summary box itself (Aksel's class, or the older one), not its heading or list.
SUMMARY = (
    '//*[contains(concat(" ", @class, " "), " aksel-error-summary ")'
    ' or contains(concat(" ", @class, " "), " error-summary ")]'
)


def swedish(client: Client, user: Any = None) -> Client:
    if user is not None:
        client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
    return client


def words(node: Any) -> str:
    return " ".join(node.text_content().split())


def assert_error_shown(content: str, field_id: str, message: str) -> None:
    """The error is next to the field (the element its aria ids name) and in the summary at
    the top, as a link to the field."""
    tree = html.fromstring(content)
    summary = tree.xpath(SUMMARY)
    assert summary, "no error summary"
    links = summary[0].xpath(f'.//a[@href="#{field_id}"]')
    assert links, f"the summary has no link to #{field_id}"
    assert message in words(links[0])
    (beside,) = tree.xpath(f'//*[@id="{field_id}_error"]')
    assert message in words(beside)
    assert tree.xpath(f'//*[@id="{field_id}"]'), "the link leads nowhere"
    # The summary comes before the form's first field.
    assert content.index("error-summary") < content.index(f'id="{field_id}"')


def value_of(content: str, field_id: str) -> str:
    (node,) = html.fromstring(content).xpath(f'//*[@id="{field_id}"]')
    return str(node.text if node.tag == "textarea" else node.get("value", "")).strip()


@pytest.fixture
def protected():
    return protected_identity_create().patient


@pytest.fixture
def admin():
    return UserFactory(username="skydd", role="protection_admin")


@pytest.fixture
def grant_request(protected):
    unit = UnitFactory(name="Rehab Öst")
    manager = UserFactory(username="chefen", role="unit_manager", unit=unit)
    nurse = UserFactory(username="nurse", role="prescriber", unit=unit)
    request = GrantRequest.objects.create(
        patient=protected,
        unit=unit,
        requested_by=manager,
        case_reference="ÄR-2026-0042",
        starts_on="2026-01-01",
        ends_on="2026-03-01",
        reason="Förskrivning av rullstol",
    )
    request.staff.add(nurse)
    return request


def test_every_form_of_the_protection_and_login_pages_leaves_checking_to_the_product():
    """No browser bubble: each form has ``novalidate`` and no hand-written ``required``."""
    missing = []
    for template in [
        *TEMPLATES.glob("protection/**/*.html"),
        *TEMPLATES.glob("registration/*.html"),
    ]:
        text = template.read_text()
        missing += [
            f"{template.name}: {tag}"
            for tag in re.findall(r"<form[^>]*>", text)
            if "novalidate" not in tag
        ]
        missing += [
            f"{template.name}: required" for _ in re.findall(r"<input[^>]*\brequired\b", text)
        ]
    assert not missing, "\n".join(missing)


def test_access_3_grant_decision_with_nothing_chosen_says_so_and_keeps_the_note(
    client, admin, grant_request
):
    response = swedish(client, admin).post(
        f"/protection/requests/{grant_request.pk}/", {"note": "Kontrollerat med enheten"}
    )
    content = response.content.decode()
    assert_error_shown(content, "id_decision", "Beslut: Detta fält måste fyllas i.")
    assert value_of(content, "id_note") == "Kontrollerat med enheten"
    grant_request.refresh_from_db()
    assert grant_request.decided_at is None


def test_access_7_emergency_review_without_a_note_is_the_products_error(client, admin, protected):
    bert = UserFactory(username="bert", role="prescriber")
    access = emergency_access_open(ctx=ctx_for(bert), patient=protected, reason=REASON)
    response = swedish(client, admin).post(
        f"/protection/review/emergency/{access.pk}/", {"note": ""}
    )
    assert response.status_code == 400
    field_id = f"id_review_{access.pk}_note"
    assert_error_shown(response.content.decode(), field_id, "Detta fält måste fyllas i.")
    access.refresh_from_db()
    assert access.reviewed_at is None


def test_access_7_emergency_review_refused_by_the_service_keeps_the_note(client, admin, protected):
    bert = UserFactory(username="bert", role="prescriber")
    access = emergency_access_open(ctx=ctx_for(bert), patient=protected, reason=REASON)
    note = "Gällde 19891223-2389, ok"
    response = swedish(client, admin).post(
        f"/protection/review/emergency/{access.pk}/", {"note": note}
    )
    assert response.status_code == 400
    content = response.content.decode()
    tree = html.fromstring(content)
    (summary,) = tree.xpath(SUMMARY)
    assert "personnummer" in words(summary)
    assert value_of(content, f"id_review_{access.pk}_note") == note
    access.refresh_from_db()
    assert access.reviewed_at is None


def test_access_7_emergency_access_without_a_reason_names_the_field(client, protected):
    bert = UserFactory(username="bert", role="prescriber")
    swedish(client, bert)
    token = masked_token(client)
    client.post("/patients/emergency/", {"patient_token": token})
    response = client.post("/patients/emergency/", {"patient_token": token, "reason": ""})
    assert_error_shown(response.content.decode(), "id_reason", "Detta fält måste fyllas i.")


def test_access_3_grant_request_errors_beside_the_fields_and_typed_text_kept(client, protected):
    unit = UnitFactory(name="Rehab Väst")
    manager = UserFactory(username="chef2", role="unit_manager", unit=unit)
    swedish(client, manager)
    token = masked_token(client)
    response = client.post(
        "/protection/requests/new/",
        {"patient_token": token, "case_reference": "ÄR-7", "reason": "Rullstol"},
    )
    content = response.content.decode()
    assert_error_shown(content, "id_starts_on", "Detta fält måste fyllas i.")
    assert value_of(content, "id_case_reference") == "ÄR-7"
    assert value_of(content, "id_reason") == "Rullstol"
    assert not GrantRequest.objects.exists()


def test_login_errors_in_the_summary_and_the_username_kept(client):
    UserFactory(username="petra")
    response = swedish(client).post("/accounts/login/", {"username": "petra", "password": ""})
    content = response.content.decode()
    assert_error_shown(content, "id_password", "Detta fält måste fyllas i.")
    assert value_of(content, "id_username") == "petra"
    wrong = client.post("/accounts/login/", {"username": "petra", "password": "fel"})
    tree = html.fromstring(wrong.content.decode())
    (summary,) = tree.xpath(SUMMARY)
    assert "användarnamn" in words(summary)
    assert value_of(wrong.content.decode(), "id_username") == "petra"


def test_password_change_errors_beside_the_fields(client):
    user = UserFactory(username="petra")
    response = swedish(client, user).post(
        "/accounts/password_change/",
        {"old_password": "fel", "new_password1": "", "new_password2": ""},
    )
    content = response.content.decode()
    assert_error_shown(content, "id_old_password", "Ditt gamla lösenord var felaktigt")
    assert_error_shown(content, "id_new_password1", "Detta fält måste fyllas i.")


def test_access_4_step_up_with_the_wrong_password_names_the_field(client):
    user = UserFactory(username="petra", role="prescriber")
    response = swedish(client, user).post("/protection/step-up/", {"password": "fel"})
    content = response.content.decode()
    tree = html.fromstring(content)
    assert tree.xpath(SUMMARY)
    assert tree.xpath('//*[@id="id_password_error"]')
