"""CAT-1: the catalogue owners' pages: each works for its role, keeps what was typed with the
error next to the field, and is denied to every other role."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from prescriptions.models import (
    AgreementRowState,
    AgreementState,
    Article,
    AssortmentPeriod,
    SupplierUser,
)
from prescriptions.services.ownership import agreement_create, agreement_row_register
from protection.models import AccountEvent, AccountEventKind
from tests.factories import UserFactory
from tests.personas import logged_in
from tests.prescriptions.factories import ArticleFactory, ProductAreaFactory, SupplierFactory

pytestmark = pytest.mark.django_db

PAGES = {
    "/catalogue/agreements/": "agreement_owner",
    "/catalogue/agreement-rows/": "supplier_user",
    "/catalogue/assortment/": "assortment_owner",
    "/catalogue/roles/": "catalogue_role_assigner",
}


@pytest.mark.parametrize("url", list(PAGES))
@pytest.mark.parametrize(
    "role", ["prescriber", "technician", "customer_service", "catalogue_search"]
)
def test_cat_1_denied_the_owners_pages_to_other_roles(client: Client, url: str, role: str) -> None:
    logged_in(client, UserFactory.create(role=role))
    assert client.get(url).status_code == 403
    assert client.post(url, {}).status_code == 403


@pytest.mark.parametrize("url", list(PAGES))
def test_cat_1_denied_the_owners_pages_without_login(client: Client, url: str) -> None:
    assert client.get(url).status_code == 302


def test_cat_1_a_supplier_registers_and_the_owner_approves_on_the_pages(client: Client) -> None:
    supplier = SupplierFactory.create(name="Sida AB")
    area = ProductAreaFactory.create()
    owner = UserFactory.create(role="agreement_owner")
    logged_in(client, owner)
    typed = {
        "agreement-code": "AVT-SIDA",
        "agreement-supplier": supplier.pk,
        "agreement-kind": "framework",
        "agreement-state": AgreementState.ACTIVE,
        "agreement-valid_from": "2025-01-01",
        "agreement-valid_until": "2024-01-01",
    }
    page = client.post("/catalogue/agreements/", typed).content.decode()
    assert 'value="AVT-SIDA"' in page
    assert "id_agreement-valid_until_error" in page
    typed["agreement-valid_until"] = ""
    assert client.post("/catalogue/agreements/", typed).status_code == 302
    agreement_id = owner.owned_agreements.get(code="AVT-SIDA").pk

    seller = UserFactory.create(role="supplier_user")
    SupplierUser.objects.create(user=seller, supplier=supplier)
    logged_in(client, seller)
    row = {
        "agreement": agreement_id,
        "article_number": "SIDA-1",
        "name": "Rollator Sida",
        "iso9999": "12x",
        "product_area": area.pk,
        "price_sek": "2500.00",
        "kind": "main",
        "supply": "rent",
        "assortment_days": "7",
        "weight_kg": "7.5",
        "length_cm": "70",
        "girth_cm": "180",
    }
    page = client.post("/catalogue/agreement-rows/", row).content.decode()
    assert 'value="Rollator Sida"' in page
    assert "id_iso9999_error" in page
    row["iso9999"] = "120606"
    assert client.post("/catalogue/agreement-rows/", row).status_code == 302

    logged_in(client, owner)
    pending = client.get("/catalogue/agreements/").content.decode()
    assert "SIDA-1 Rollator Sida" in pending
    registered = owner.owned_agreements.get().rows.get()
    refused = client.post(
        "/catalogue/agreements/",
        {"decision-row": registered.pk, "decision-decision": "refuse", "decision-reason": ""},
    ).content.decode()
    assert f'id="reason-{registered.pk}-error"' in refused
    approved = client.post(
        "/catalogue/agreements/",
        {"decision-row": registered.pk, "decision-decision": "approve", "decision-reason": ""},
    )
    assert approved.status_code == 302
    registered.refresh_from_db()
    assert registered.state == AgreementRowState.APPROVED
    assert Article.objects.get(article_number="SIDA-1").price_sek == 2500


def test_cat_1_a_foreign_row_cannot_be_decided_on_the_page(client: Client) -> None:
    owner = UserFactory.create(role="agreement_owner")
    other = UserFactory.create(role="agreement_owner")
    agreement = agreement_create(
        user=owner,
        code="AVT-F",
        supplier_id=SupplierFactory.create().pk,
        kind="direct",
        valid_from=None,
        valid_until=None,
    )
    row = agreement_row_register(
        user=owner,
        agreement_id=agreement.pk,
        article_number="F-1",
        name="Stol",
        iso9999="",
        product_area_id=ProductAreaFactory.create().pk,
        price_sek=100,
        kind="main",
        supply="sell",
        assortment_days=5,
        weight_kg=1,
        length_cm=10,
        girth_cm=10,
    )
    logged_in(client, other)
    response = client.post(
        "/catalogue/agreements/", {"decision-row": row.pk, "decision-decision": "approve"}
    )
    assert response.status_code == 200
    assert "Choose a row of one of your own agreements." in response.content.decode()
    row.refresh_from_db()
    assert row.state == AgreementRowState.SUBMITTED


def test_cat_1_the_assortment_owner_publishes_and_withdraws_on_the_page(client: Client) -> None:
    article = ArticleFactory.create(article_number="PUB-1", in_assortment=False)
    logged_in(client, UserFactory.create(role="assortment_owner"))
    assert "PUB-1" in client.get("/catalogue/assortment/").content.decode()
    missing = client.post(
        "/catalogue/assortment/", {"article_number": "NOPE", "action": "publish"}
    ).content.decode()
    assert 'value="NOPE"' in missing
    assert "id_article_number_error" in missing
    assert (
        client.post(
            "/catalogue/assortment/", {"article_number": "PUB-1", "action": "publish"}
        ).status_code
        == 302
    )
    article.refresh_from_db()
    assert article.in_assortment
    client.post("/catalogue/assortment/", {"article_number": "PUB-1", "action": "withdraw"})
    article.refresh_from_db()
    assert not article.in_assortment
    assert AssortmentPeriod.objects.get(article=article).until is not None


def test_cat_1_the_role_assigner_gives_a_role_on_the_page_as_an_account_event(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    assigner = UserFactory.create(role="catalogue_role_assigner")
    technician = UserFactory.create(role="technician", username="tekniker-cat")
    logged_in(client, assigner)
    with django_assert_max_num_queries(12):
        assert client.get("/catalogue/roles/").status_code == 200
    response = client.post(
        "/catalogue/roles/",
        {"username": "tekniker-cat", "role": "catalogue_search", "action": "give"},
    )
    assert response.status_code == 302
    assert technician.groups.filter(name="catalogue_search").exists()
    event = AccountEvent.objects.filter(subject_id=technician.pk).latest("pk")
    assert (event.kind, event.actor_id) == (AccountEventKind.GROUPS, assigner.pk)
    # A supplier user needs the supplier: named next to the field, the typed name kept.
    page = client.post(
        "/catalogue/roles/",
        {"username": "tekniker-cat", "role": "supplier_user", "action": "give"},
    ).content.decode()
    assert "id_supplier_error" in page
    assert 'value="tekniker-cat"' in page


def test_cat_1_the_owner_activates_and_ends_an_agreement_after_confirming(client: Client) -> None:
    owner = UserFactory.create(role="agreement_owner")
    agreement = agreement_create(
        user=owner,
        code="AVT-UTKAST",
        supplier_id=SupplierFactory.create().pk,
        kind="framework",
        state=AgreementState.DRAFT,
        valid_from=None,
        valid_until=None,
    )
    logged_in(client, owner)
    asked = {"state-agreement": agreement.pk, "state-state": AgreementState.ACTIVE}
    page = client.post("/catalogue/agreements/", asked).content.decode()
    # The first press only asks: nothing changes until the owner confirms.
    assert 'name="state-confirm"' in page
    agreement.refresh_from_db()
    assert agreement.state == AgreementState.DRAFT
    response = client.post("/catalogue/agreements/", {**asked, "state-confirm": "True"})
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.state == AgreementState.ACTIVE
    assert "AVT-UTKAST" in client.get("/catalogue/agreements/").content.decode()

    ended = {"state-agreement": agreement.pk, "state-state": AgreementState.ENDED}
    confirmed = {**ended, "state-confirm": "True"}
    assert client.post("/catalogue/agreements/", confirmed).status_code == 302
    agreement.refresh_from_db()
    assert agreement.state == AgreementState.ENDED
    # An ended agreement stays ended: the refusal shows on the page and nothing moves.
    again = {**asked, "state-confirm": "True"}
    page = client.post("/catalogue/agreements/", again).content.decode()
    assert "aksel-error-summary" in page
    agreement.refresh_from_db()
    assert agreement.state == AgreementState.ENDED


def test_cat_1_denied_changing_another_owners_agreement(client: Client) -> None:
    owner = UserFactory.create(role="agreement_owner")
    agreement = agreement_create(
        user=owner,
        code="AVT-ANNAN",
        supplier_id=SupplierFactory.create().pk,
        kind="framework",
        state=AgreementState.DRAFT,
        valid_from=None,
        valid_until=None,
    )
    logged_in(client, UserFactory.create(role="agreement_owner"))
    asked = {"state-agreement": agreement.pk, "state-state": AgreementState.ACTIVE}
    assert "AVT-ANNAN" not in client.post("/catalogue/agreements/", asked).content.decode()
    client.post("/catalogue/agreements/", {**asked, "state-confirm": "True"})
    agreement.refresh_from_db()
    assert agreement.state == AgreementState.DRAFT


def _queries_for(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_cat_1_the_agreements_page_shows_every_move_with_who_made_it(client: Client) -> None:
    """House style 4: the header's moves and its rows' decisions are listed on the owner's
    agreements page, by state name and the person's name; another owner sees none of them, and
    the history costs the same queries however long it grows."""
    owner = UserFactory.create(role="agreement_owner", first_name="Åsa", last_name="Avtal")
    supplier = SupplierFactory.create()
    logged_in(client, owner)
    agreement = agreement_create(
        user=owner,
        code="AVT-HISTORIK",
        supplier_id=supplier.pk,
        kind="framework",
        state=AgreementState.DRAFT,
        valid_from=None,
        valid_until=None,
    )
    baseline = _queries_for(client, "/catalogue/agreements/")
    confirmed = {
        "state-agreement": agreement.pk,
        "state-state": AgreementState.ACTIVE,
        "state-confirm": "True",
    }
    assert client.post("/catalogue/agreements/", confirmed).status_code == 302
    for code in ("AVT-H2", "AVT-H3", "AVT-H4"):
        agreement_create(
            user=owner, code=code, supplier_id=supplier.pk, kind="direct",
            valid_from=None, valid_until=None,
        )  # fmt: skip
    assert _queries_for(client, "/catalogue/agreements/") == baseline

    # In Swedish, as users read it: the states by name (created as a draft, then activated),
    # never their keys.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "sv"
    page = client.get("/catalogue/agreements/").content.decode()
    history = page.split('id="history-heading"', 1)[1].split("</section>", 1)[0]
    assert "Historik för dina avtal" in history
    assert "AVT-HISTORIK" in history
    assert "Åsa Avtal" in history
    assert ">Utkast</td>" in history
    assert ">Aktiv</td>" in history
    assert "draft" not in history.lower()

    logged_in(client, UserFactory.create(role="agreement_owner"))
    other = client.get("/catalogue/agreements/").content.decode()
    assert "AVT-HISTORIK" not in other


def test_cat_1_a_publication_date_in_the_past_is_refused_next_to_the_date(client: Client) -> None:
    """CAT-1: the page's one date field carries the refusal, and the typed values stay."""
    article = ArticleFactory.create(article_number="PUB-2", in_assortment=False)
    logged_in(client, UserFactory.create(role="assortment_owner"))
    page = client.post(
        "/catalogue/assortment/",
        {"article_number": "PUB-2", "action": "publish", "on": "2020-01-01"},
    ).content.decode()
    assert "id_on_error" in page
    assert 'value="PUB-2"' in page
    article.refresh_from_db()
    assert not article.in_assortment
    assert article.assortment_from is None
