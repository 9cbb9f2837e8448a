"""The masked card's actions (issue 15, ACCESS-4, ACCESS-7): for a grant holder who has not
confirmed the password, step-up is the primary action and no "No access" stands above it;
break the glass is secondary, visibly different, and says that it is reviewed at once."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from tests.personas import PROTECTED_NUMBER, give_grant, logged_in

pytestmark = pytest.mark.django_db

EXPLAINED = "the protection administrators are told at once to review it"


def action_classes(html: str, text: str) -> str:
    """The attributes of the link or button whose text is ``text`` (Aksel sets a button's variant
    with ``data-variant``)."""
    match = re.search(r'<(?:a|button)([^>]*class="[^"]*aksel-button[^>]*)>' + re.escape(text), html)
    assert match, f"no action {text!r}"
    return match.group(1)


def test_access_4_a_grant_holder_is_offered_step_up_first_without_no_access(
    client: Client, prescriber: Any, protected: Any
) -> None:
    give_grant(prescriber, protected)
    html = logged_in(client, prescriber).post("/", {"number": PROTECTED_NUMBER}).content.decode()
    assert "No access" not in html
    assert "You hold a grant for this patient" in html
    step_up = action_classes(html, "Confirm your password to open the patient")
    assert 'data-variant="primary"' in step_up
    emergency = action_classes(html, "Emergency access (break the glass)")
    assert 'data-variant="secondary"' in emergency
    assert 'data-variant="primary"' not in emergency
    assert EXPLAINED in html
    # The step-up comes first on the card.
    assert html.index("Confirm your password") < html.index("Emergency access (break")


def test_access_7_without_a_grant_break_the_glass_is_explained(
    client: Client, prescriber: Any, protected: Any
) -> None:
    html = logged_in(client, prescriber).post("/", {"number": PROTECTED_NUMBER}).content.decode()
    assert "No access" in html
    assert "Confirm your password to open the patient" not in html
    emergency = action_classes(html, "Emergency access (break the glass)")
    assert 'data-variant="secondary"' in emergency
    assert EXPLAINED in html
    assert 'aria-describedby="emergency-explained"' in html


def test_access_4_the_grant_holder_s_patient_page_goes_to_step_up_not_no_access(
    client: Client, prescriber: Any, protected: Any
) -> None:
    give_grant(prescriber, protected)
    logged_in(client, prescriber)
    response = client.get(f"/patients/{protected.patient.reference}/", follow=True)
    assert response.redirect_chain[0][0].startswith("/protection/step-up/")
    assert response.status_code == 200
    assert "No access" not in response.content.decode()
