"""The Django admin speaks Swedish with human values: every registered model's list, change
and add page, as the superuser, customer service and the protection administrator, shows no
True/False, no raw state key and no ``7:->draft`` history string in the cells a user reads."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from lxml import html

from patients.demo import demo_seed
from tests.factories import UserFactory
from tests.logistics.crawl_world import logistics_world
from tests.personas import give_grant

pytestmark = pytest.mark.django_db

PASSWORD = "demo-admin-pw"
PROTECTED_NUMBER = "194201199124"
# Each demo role that works in the admin, with how many of its pages must open at least.
ROLES = {"admin": 40, "customer_service": 30, "protection_admin": 5}
# What a cell must never say: Python's booleans and None, an arrow between two keys, a
# row's internal "model:id" name.
# Headings that are the same words in Swedish and English.
SHARED = frozenset({"HSA-id", "ID", "Patient", "Region", "Status"})
FORBIDDEN = re.compile(r"\b(True|False|None)\b|->|^[a-z-]+:\d+$")


def raw_keys() -> dict[str, set[str]]:
    """By field name, every choice value of the registered models (and their inlines' models)
    whose label differs from it: a cell of that field that says the value shows the key."""
    keys: dict[str, set[str]] = {}
    for model in apps.get_models():
        for field in model._meta.get_fields():
            for value, label in getattr(field, "flatchoices", None) or ():
                if isinstance(value, str) and value and value != str(label):
                    keys.setdefault(field.name, set()).add(value)
    return keys


@pytest.fixture
def world(shared_dir: Any) -> None:
    from patients.models import PatientIdentity

    demo_seed(shared_dir=shared_dir, password=PASSWORD)
    holder = UserFactory(username="holder", role="prescriber")
    give_grant(holder, PatientIdentity.objects.get(personal_identity_number=PROTECTED_NUMBER))
    logistics_world(holder=holder, protected_number=PROTECTED_NUMBER)


def admin_pages() -> list[str]:
    urls = ["/admin/"]
    for model in admin.site._registry:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        urls += [base, base + "add/"]
        urls += [
            f"{base}{pk}/change/" for pk in model._default_manager.values_list("pk", flat=True)[:3]
        ]
    return urls


def cell_texts(content: str) -> list[tuple[str, str]]:
    """What a user reads in the tables and the read-only fields, with the field it shows (from
    the admin's ``field-<name>`` class): td and th text, the read-only values, an image's
    alternative text there, and the inline rows' titles."""
    tree = html.fromstring(content)
    texts: list[tuple[str, str]] = []
    for cell in tree.xpath("//td | //th | //div[contains(@class, 'readonly')] | //td//p"):
        classes = " ".join(
            c for node in (cell, *cell.iterancestors()) for c in (node.get("class") or "").split()
        )
        field = next(
            (c.removeprefix("field-") for c in classes.split() if c.startswith("field-")), ""
        )
        texts.append((field, " ".join(cell.text_content().split())))
        texts += [(field, img.get("alt", "")) for img in cell.xpath(".//img")]
    return [(field, text) for field, text in texts if text]


def problems_in(content: str, keys: dict[str, set[str]]) -> list[str]:
    problems = []
    for field, text in cell_texts(content):
        if FORBIDDEN.search(text):
            problems.append(repr(text))
        elif text in keys.get(field, ()):
            problems.append(f"raw key {text!r} of {field}")
    return problems


@pytest.mark.parametrize("username", list(ROLES))
def test_admin_pages_show_human_values_in_swedish(world, client, username):
    user = get_user_model().objects.get(username=username)
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
    keys = raw_keys()
    problems: list[str] = []
    opened = 0
    for url in admin_pages():
        response = client.get(url)
        if response.status_code != 200:
            continue
        opened += 1
        problems += [f"{url}: {p}" for p in problems_in(response.content.decode(), keys)]
    # The role works in the admin: its pages opened, and the check ran on them.
    assert opened >= ROLES[username]
    assert not problems, "\n".join(problems)


def headings(content: str) -> list[str]:
    """The column headings and the field labels a page shows."""
    tree = html.fromstring(content)
    found = tree.xpath(
        "//thead//th | //fieldset//label | //fieldset//div[@class='flex-container']/label"
    )
    return [" ".join(node.text_content().split()).rstrip(":") for node in found]


@pytest.mark.parametrize("username", ["admin"])
def test_admin_headings_are_translated(world, client, username):
    """verbose_names in Swedish: a heading that reads the same in English and Swedish is an
    untranslated English one, unless it is a word both languages share."""
    client.force_login(get_user_model().objects.get(username=username))
    untranslated: set[str] = set()
    for url in admin_pages():
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        english = client.get(url)
        if english.status_code != 200:
            continue
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
        swedish = client.get(url)
        same = set(headings(english.content.decode())) & set(headings(swedish.content.decode()))
        untranslated |= {f"{url}: {h}" for h in same if re.search(r"[a-z]", h) and h not in SHARED}
    assert not untranslated, "\n".join(sorted(untranslated))


def test_the_check_would_see_a_raw_value():
    """The check itself: a boolean icon's English alt text, a history string, a raw key in its
    field's cell (and not a store whose code happens to be a kind's key)."""
    keys = {"state": {"draft"}, "kind": {"central"}}
    page = (
        '<table><tr><td><img src="x" alt="True"></td><td>7:draft->submitted</td>'
        '<td class="field-state">draft</td><td class="field-code">central</td>'
        "<td>Utkast</td></tr></table>"
    )
    assert problems_in(page, keys) == [
        "'True'",
        "'7:draft->submitted'",
        "raw key 'draft' of state",
    ]
