"""Each role lands on its work after login (config.landing, the start page), and the logistics
pages answer "No access" (403) to a role without the permission, as the project does elsewhere."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory
from tests.personas import logged_in

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "role", ["logistics", "prescriber", "customer_service", "technician", "billing"]
)
def test_each_role_lands_on_its_start_page_with_its_queues(client: Client, role: str) -> None:
    logged_in(client, UserFactory(username=f"u-{role}", role=role))
    response = client.get("/start/")
    assert response.status_code == 200
    # The store's queues are registered on the start page, each linking to its list.
    assert ('href="/logistics/queue/late/"' in response.content.decode()) == (role == "logistics")


def test_a_safe_next_wins_and_an_unsafe_one_is_ignored(client: Client) -> None:
    logged_in(client, UserFactory(username="lager", role="logistics"))
    assert client.get("/start/?next=/logistics/kpi/")["Location"] == "/logistics/kpi/"
    assert client.get("/start/?next=https://evil.example/").status_code == 200


@pytest.mark.parametrize(
    "url", ["/logistics/", "/logistics/queue/late/", "/logistics/kpi/", "/logistics/kpi/missed/"]
)
def test_kpi_1_a_prescriber_gets_no_access_to_the_logistics_pages(client: Client, url: str) -> None:
    logged_in(client, UserFactory(username="anna", role="prescriber"))
    assert client.get(url).status_code == 403


def test_an_unknown_queue_is_not_found(client: Client) -> None:
    logged_in(client, UserFactory(username="lager", role="logistics"))
    assert client.get("/logistics/queue/nope/").status_code == 404
    assert client.get("/logistics/kpi/missed/?month=2026-13&kind=7&agreement=x").status_code == 404
