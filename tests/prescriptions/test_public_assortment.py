"""CAT-2: the public assortment for residents, without logging in, with no way to patient data."""

from __future__ import annotations

import ast
import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from patients.models import Patient
from prescriptions.models import Article, ArticleKind
from tests.factories import UserFactory
from tests.personas import protected_identity_create
from tests.prescriptions.factories import AgreementFactory, ArticleFactory

pytestmark = pytest.mark.django_db

PUBLIC_MODULES = ("prescriptions/views/assortment.py", "prescriptions/selectors/assortment.py")
# What the public pages may import: Django, and the catalogue's own models and selector.
ALLOWED_IMPORTS = re.compile(
    r"^(__future__|typing|datetime|re|django(\..*)?|prescriptions\.models\.catalogue|"
    r"prescriptions\.selectors\.assortment)$"
)
# Tables that know patients; and, for a visitor without a session, accounts and sessions too
# (with a session, the site's middleware resolves the account around every view).
# A signed-in browser's session user comes with their own staff profile (patients.auth reads
# them in one statement): the staff member's HSA-id and unit, never a patient.
PATIENT_TABLES = re.compile(r'"(patients_(?!staffprofile")|protection_|guardian_)')
PERSON_TABLES = re.compile(r'"(patients_|protection_|guardian_|auth_|django_session)')


PUBLIC_URLS = ("/assortment/", "/assortment/?q=rollator", "/assortment/P1001/", "/assortment/NOPE/")


def tables_read(queries: list[dict[str, str]], tables: re.Pattern[str]) -> list[str]:
    return [q["sql"] for q in queries if tables.search(q["sql"])]


@pytest.fixture
def assortment() -> dict[str, Article]:
    expired = AgreementFactory.create(
        valid_from=datetime.date(2020, 1, 1), valid_until=datetime.date(2021, 1, 1)
    )
    walker = ArticleFactory.create(
        article_number="P1001",
        name="Rollator Gemino 30",
        iso9999="120606",
        description="Fyrhjulig rollator med sits och korg, för dig som behöver stöd när du går.",
    )
    return {
        "walker": walker,
        "plain": ArticleFactory.create(
            article_number="P1002", name="Rollator Topro", description=""
        ),
        "phased_out": ArticleFactory.create(
            article_number="P1003", name="Rollator Gammal", in_assortment=False
        ),
        "expired": ArticleFactory.create(
            article_number="P1004", name="Rollator Utgången", agreement=expired
        ),
        "accessory": ArticleFactory.create(
            article_number="P1005",
            name="Rollatorkorg",
            kind=ArticleKind.ACCESSORY,
            main_article=walker,
        ),
    }


def test_cat_2_a_resident_searches_the_published_assortment_without_logging_in(
    client: Client, assortment: dict[str, Article]
) -> None:
    response = client.get("/assortment/", {"q": "rollator"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Rollator Gemino 30" in page
    assert "Rollator Topro" in page
    # Phased out, agreement ended, accessory: not in the published assortment.
    assert "Rollator Gammal" not in page
    assert "Rollator Utgången" not in page
    assert "Rollatorkorg" not in page
    # The region's business: no price, supplier or agreement.
    assert "2900" not in page
    assert "Leverantör" not in page
    assert "AVT-T-" not in page
    # The search keeps what was typed.
    assert 'value="rollator"' in page
    # Swedish by default, and a way to get the device.
    assert "Tala med din vårdenhet" in page


def test_cat_2_a_search_by_iso_code_and_a_too_long_word_named_in_the_error(
    client: Client, assortment: dict[str, Article]
) -> None:
    page = client.get("/assortment/", {"q": "12 06"}).content.decode()
    assert "Rollator Gemino 30" in page
    response = client.get("/assortment/", {"q": "x" * 101})
    assert response.status_code == 200
    assert "aksel-error-message" in response.content.decode()
    assert "Sök efter ett hjälpmedel" in response.content.decode()


def test_cat_2_the_article_page_gives_description_iso_code_and_how_to_get_it(
    client: Client, assortment: dict[str, Article]
) -> None:
    page = client.get("/assortment/P1001/").content.decode()
    assert "Fyrhjulig rollator med sits och korg" in page
    assert "120606" in page
    assert "Lånas ut av regionen" in page
    # Without a description of its own, the page still says what it is.
    plain = client.get("/assortment/P1002/").content.decode()
    assert "Rörelse och förflyttning" in plain


@pytest.mark.parametrize("number", ["P1003", "P1004", "P1005", "NOPE"])
def test_cat_2_denied_an_article_outside_the_published_assortment_is_not_found(
    client: Client, assortment: dict[str, Article], number: str
) -> None:
    response = client.get(f"/assortment/{number}/")
    assert response.status_code == 404
    assert "Rollator" not in response.content.decode()
    assert response.cookies == {}


def test_cat_2_the_public_pages_set_no_cookie_and_may_be_cached(
    client: Client, assortment: dict[str, Article]
) -> None:
    for url in ("/assortment/", "/assortment/?q=rollator", "/assortment/P1001/"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.cookies == {}, url
        assert "public" in response["Cache-Control"]
        assert "max-age=300" in response["Cache-Control"]
        # The language cookie chooses the language: a shared cache keeps one copy per language.
        assert "Cookie" in response["Vary"]
        assert "Content-Security-Policy" in response


def test_cat_2_the_public_pages_read_no_table_that_knows_a_person(
    client: Client, assortment: dict[str, Article]
) -> None:
    protected_identity_create()
    assert Patient.objects.exists()
    # A logged-in resident's browser too: the page does not even read the session.
    signed_in = Client()
    signed_in.force_login(UserFactory.create())
    signed_in.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    for reader, tables in ((client, PERSON_TABLES), (signed_in, PATIENT_TABLES)):
        for url in PUBLIC_URLS:
            with CaptureQueriesContext(connection) as queries:
                response = reader.get(url)
            assert response.status_code in (200, 404)
            assert len(queries) > 0
            assert tables_read(queries.captured_queries, tables) == [], url
            assert "Hemlig" not in response.content.decode()


def test_the_table_check_would_see_a_patient_read() -> None:
    with CaptureQueriesContext(connection) as queries:
        Patient.objects.filter(reference="x").exists()
    assert tables_read(queries.captured_queries, PATIENT_TABLES) != []


def test_cat_2_the_public_modules_import_nothing_that_reaches_patient_data() -> None:
    root = Path(settings.BASE_DIR)
    for module in PUBLIC_MODULES:
        tree = ast.parse((root / module).read_text())
        nodes = list(ast.walk(tree))
        imported = {n.module or "" for n in nodes if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in nodes if isinstance(n, ast.Import) for a in n.names}
        assert imported, module
        assert [name for name in imported if not ALLOWED_IMPORTS.match(name)] == [], module
