"""LEAK-1: the error pages (400, 403, 404, 500, a refused form and an identity number in the
address) are the product's own, in Swedish, and repeat nothing from the request.

Each page comes through the real handlers: the URL configuration's handler400-500, the CSRF
failure view of the settings and the identity-in-URL middleware, with DEBUG off as in the demo
and in production."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from lxml import html

from tests.config.error_urls import FAILURE_TEXT
from tests.personas import logged_in

pytestmark = pytest.mark.django_db

# What the request carried, which must come back nowhere on the page.
MARKER = "zqxj"
ENGLISH = (
    "Page not found",
    "does not exist",
    "Bad Request",
    "Forbidden",
    "Server Error",
    "CSRF",
    "No access",
    "Something went wrong",
    "personal identity number",
    "the start page",
)


def swedish(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
    return client


def page_text(response: Any) -> tuple[str, str]:
    """The title and the main content's text, without the language switch (which is in English
    on purpose, in its own lang)."""
    tree = html.fromstring(response.content.decode())
    for element in tree.xpath('//*[@lang="en"]'):
        element.drop_tree()
    (main,) = tree.xpath("//main")
    return tree.findtext(".//title") or "", " ".join(main.text_content().split())


def assert_own_swedish_page(response: Any, status: int, heading: str) -> str:
    assert response.status_code == status
    content = response.content.decode()
    assert 'lang="sv"' in content
    title, text = page_text(response)
    assert heading in title
    assert text.startswith(heading)
    for english in ENGLISH:
        assert english not in text, english
        assert english not in title, english
    assert MARKER not in content
    assert "18900101" not in content
    return text


def test_leak_1_404_is_the_products_own_in_swedish_and_names_no_address(client):
    response = swedish(client).get(f"/no-such-page-{MARKER}/?q={MARKER}")
    text = assert_own_swedish_page(response, 404, "Sidan hittades inte")
    assert "Till startsidan" in text


def test_leak_1_404_for_a_logged_in_user_names_no_address_either(client, prescriber):
    logged_in(client, prescriber)
    response = swedish(client).get(f"/prescriptions/F-{MARKER.upper()}0000/")
    assert_own_swedish_page(response, 404, "Sidan hittades inte")


def test_leak_1_403_is_the_products_own_in_swedish(client, prescriber):
    logged_in(client, prescriber)
    response = swedish(client).get(f"/protection/requests/?note={MARKER}")
    text = assert_own_swedish_page(response, 403, "Behörighet saknas")
    assert "be din chef" in text


def test_leak_1_400_is_the_products_own_in_swedish(client):
    # A host the settings do not allow: Django answers through handler400.
    response = swedish(client).get(f"/start/?q={MARKER}", HTTP_HOST=f"{MARKER}.example")
    assert_own_swedish_page(response, 400, "Förfrågan kunde inte hanteras")


@pytest.mark.urls("tests.config.error_urls")
def test_leak_1_500_is_the_products_own_in_swedish_and_repeats_no_failure():
    client = swedish(Client(raise_request_exception=False))
    response = client.get(f"/failing/?q={MARKER}")
    text = assert_own_swedish_page(response, 500, "Något gick fel")
    assert FAILURE_TEXT not in response.content.decode()
    assert "loggats" in text


def test_leak_1_refused_form_is_the_products_own_in_swedish(prescriber):
    client = swedish(Client(enforce_csrf_checks=True))
    client.force_login(prescriber)
    response = client.post("/", {"query": MARKER})
    text = assert_own_swedish_page(response, 403, "Formuläret kunde inte skickas")
    assert "ladda om sidan" in text


def test_leak_1_identity_in_url_says_what_to_do_instead_in_swedish(client):
    response = swedish(client).get(f"/patients/18900101-9802/?q={MARKER}")
    text = assert_own_swedish_page(response, 400, "Personnummer hör inte hemma i en webbadress")
    assert "”Sök patient”" in text
    assert "interna referens" in text
    assert "1212" not in response.content.decode()


def test_leak_1_identity_in_url_follows_the_chosen_language(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/patients/18900101-9802/")
    assert response.status_code == 400
    assert "A personnummer does not belong in a web address" in response.content.decode()
