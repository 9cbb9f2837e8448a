"""CAT-1: product and agreement search is a role of its own (for example for technicians)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from prescriptions.models import AgreementState
from tests.factories import UserFactory
from tests.personas import logged_in
from tests.prescriptions.factories import AgreementFactory, ArticleFactory, SupplierFactory

pytestmark = pytest.mark.django_db

URL = "/catalogue/agreements/search/"
# Session, user, permissions and menu, then one query for agreements and one for articles with
# their agreement and supplier joined: the count does not grow with the hits.
QUERIES = 6


@pytest.mark.parametrize(
    "role", ["catalogue_search", "technician", "agreement_owner", "assortment_owner"]
)
def test_cat_1_the_search_role_finds_agreements_and_articles(client: Client, role: str) -> None:
    supplier = SupplierFactory.create(name="Rullstolsbolaget AB")
    agreement = AgreementFactory.create(
        code="AVT-RULL", supplier=supplier, state=AgreementState.ACTIVE
    )
    ArticleFactory.create(
        article_number="RULL-77",
        name="Rullstol Lätt",
        iso9999="122203",
        agreement=agreement,
        price_sek="8900.00",
        in_assortment=False,
    )
    ArticleFactory.create(article_number="ANNAN-1", name="Säng")
    logged_in(client, UserFactory.create(role=role))

    by_supplier = client.get(URL, {"q": "rullstolsbolaget"}).content.decode()
    assert "AVT-RULL" in by_supplier
    by_iso = client.get(URL, {"q": "1222"}).content.decode()
    assert "RULL-77" in by_iso
    assert "Rullstolsbolaget AB" in by_iso
    assert "8900" in by_iso
    assert "ANNAN-1" not in by_iso
    by_name = client.get(URL, {"q": "lätt"}).content.decode()
    assert "RULL-77" in by_name


@pytest.mark.parametrize("role", ["logistics", "billing", "unit_manager"])
def test_cat_1_denied_the_search_without_the_role(client: Client, role: str) -> None:
    logged_in(client, UserFactory.create(role=role))
    assert client.get(URL, {"q": "1"}).status_code == 403


def test_cat_1_denied_the_search_without_login(client: Client) -> None:
    response = client.get(URL, {"q": "1"})
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_cat_1_the_search_pins_its_queries(client: Client, django_assert_num_queries: Any) -> None:
    for number in range(5):
        ArticleFactory.create(article_number=f"PIN-{number}", name=f"Pinnad {number}")
    logged_in(client, UserFactory.create(role="catalogue_search"))
    client.get(URL, {"q": "PIN"})
    with django_assert_num_queries(QUERIES):
        page = client.get(URL, {"q": "PIN"}).content.decode()
    assert page.count("PIN-") == 5
