"""The catalogue pages: who may see them, what they show, how many queries they cost."""

from __future__ import annotations

import pytest
from django.test import Client

from prescriptions.models import Article
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SEARCH = "/catalogue/"


def client_for(role: str) -> Client:
    client = Client()
    client.force_login(UserFactory(role=role))
    client.cookies["django_language"] = "sv"
    return client


@pytest.mark.parametrize("role", ["prescriber", "customer_service", "technician"])
def test_cat_1_product_search_roles_open_the_catalogue(sample_catalogue, role):
    client = client_for(role)
    page = client.get(SEARCH, {"q": "rollator"})
    assert page.status_code == 200
    assert "Rollator Gloss" in page.content.decode()
    assert client.get("/catalogue/articles/44001/").status_code == 200


@pytest.mark.parametrize("role", ["unit_manager", "protection_admin", "logistics", "billing"])
def test_cat_1_other_roles_are_denied_the_catalogue(sample_catalogue, role):
    client = client_for(role)
    assert client.get(SEARCH).status_code == 403
    assert client.get("/catalogue/articles/44001/").status_code == 403


def test_the_catalogue_is_denied_to_a_superuser_without_the_role(sample_catalogue):
    client = Client()
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert client.get(SEARCH).status_code == 403


def test_anonymous_users_are_sent_to_log_in(sample_catalogue, client):
    for url in (SEARCH, "/catalogue/articles/44001/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_the_search_page_in_swedish_with_labels_and_table_headers(sample_catalogue):
    page = client_for("prescriber").get(SEARCH, {"q": "säng 90"}).content.decode()
    assert '<label class="aksel-form-field__label aksel-label" for="id_q">' in page
    assert '<label class="aksel-form-field__label aksel-label" for="id_area">' in page
    assert '<th class="aksel-table__header-cell" scope="col">Artikelnummer</th>' in page
    assert "Leverans" in page
    assert "7 dagar" in page
    assert "Tillbehör:" in page  # the bed rail under its bed
    assert "Utgången" in page  # 40199
    assert "40102 Säng SB755(CA40) 90 cm" in page  # its replacement


def test_the_search_page_without_a_match_says_so(sample_catalogue):
    page = client_for("prescriber").get(SEARCH, {"q": "xyzzy"}).content.decode()
    assert 'role="status"' in page


def test_the_product_area_filter(sample_catalogue):
    page = client_for("prescriber").get(SEARCH, {"q": "", "area": "hearing"}).content.decode()
    assert "Hörapparat i örat" in page
    assert "Rollator" not in page


def test_the_search_page_costs_a_fixed_number_of_queries(
    sample_catalogue, django_assert_num_queries
):
    """Pinned: session, user, role permissions, product areas for the form, the search's four
    (threshold, articles, accessories, replacements), the availability of the page's articles and
    of the replacement candidates (PRESC-8, the logistics floor), the menu's user permissions."""
    client = client_for("prescriber")
    Article.objects.filter(article_number="44002").update(out_of_stock=True)
    client.get(SEARCH, {"q": "rollator"})  # warm the session
    with django_assert_num_queries(11):
        client.get(SEARCH, {"q": "säng"})
    with django_assert_num_queries(11):
        client.get(SEARCH, {"q": "rollator"})


def test_the_article_page_shows_accessories_and_the_replacement(sample_catalogue):
    client = client_for("prescriber")
    page = client.get("/catalogue/articles/40101/").content.decode()
    assert "Sänggrind SB755" in page
    page = client.get("/catalogue/articles/40199/").content.decode()
    assert "40102 Säng SB755(CA40) 90 cm" in page
    assert "fast ersättningsgrupp" in page


def test_an_unknown_article_is_not_found(sample_catalogue):
    assert client_for("prescriber").get("/catalogue/articles/99999/").status_code == 404
