"""Menus show only what the user can open (issue 15): the menu comes from one table with each
view's own check (config/menu.py), so every link answers 200 for every demo role, and the
superuser is no longer offered pages that answer "No access"."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from patients.demo import DEMO_USERS
from tests.config.test_start_page import demo_user
from tests.personas import logged_in

pytestmark = pytest.mark.django_db


def menu_links(html: str) -> list[str]:
    nav = re.search(r'<nav[^>]*aria-label="Main menu">(.*?)</nav>', html, re.S)
    assert nav, "no main menu on the page"
    return re.findall(r'<a [^>]*href="([^"]+)"', nav.group(1))


@pytest.mark.parametrize("username", [user.username for user in DEMO_USERS])
def test_every_menu_link_of_every_demo_role_answers_200(client: Client, username: str) -> None:
    logged_in(client, demo_user(username))
    links = menu_links(client.get("/start/").content.decode())
    assert "/messages/" in links
    for url in links:
        assert client.get(url).status_code == 200, url


def test_the_superuser_is_offered_no_page_that_answers_no_access(client: Client) -> None:
    logged_in(client, demo_user("admin"))
    links = menu_links(client.get("/start/").content.decode())
    # The pages a superuser's perms.X offered before, which ask for a role's permission.
    for url in ("/prescriptions/", "/protection/requests/", "/protection/grants/",
                "/protection/review/", "/logistics/", "/catalogue/"):  # fmt: skip
        assert url not in links
    assert "/admin/" in links


def test_the_menu_follows_the_role(client: Client) -> None:
    logged_in(client, demo_user("logistics"))
    links = menu_links(client.get("/start/").content.decode())
    assert "/logistics/" in links
    assert "/prescriptions/" not in links
    assert "/" not in links  # logistics staff search no patients
