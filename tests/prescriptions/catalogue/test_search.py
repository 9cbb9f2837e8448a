"""Catalogue search, orderability and the replacement proposal (PRESC-8)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from prescriptions.models import (
    Agreement,
    Article,
    ArticleKind,
    ReplacementGroup,
    ReplacementKind,
)
from prescriptions.selectors.catalogue import (
    StockState,
    article_detail,
    article_orderable,
    article_search,
    replacement_for,
)
from tests.prescriptions.factories import AgreementFactory, ArticleFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 6, 1)


def numbers(query: str, product_area: str | None = None) -> list[str]:
    """Every article the search shows: the hits and the accessories listed under them."""
    found = article_search(query=query, day=TODAY, product_area=product_area)
    return [
        article.article_number
        for e in found
        for article in (e.article, *(accessory.article for accessory in e.accessories))
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("rolator", "44001"),  # a letter missing
        ("kryka", "79927"),  # "krycka"
        ("rulstol", "46001"),
        ("hörapprat", "48001"),
        ("madras curocel", "42010"),
        ("säng 90", "40101"),
        ("sänggrind", "40190"),
    ],
)
def test_search_by_name_forgives_typing_errors(sample_catalogue, query, expected):
    assert expected in numbers(query)


def test_search_by_name_does_not_return_everything(sample_catalogue):
    found = numbers("rollator")
    assert set(found) == {"44001", "44002", "44003", "44010"}


def test_search_by_article_number_exact_first_then_prefix(sample_catalogue):
    assert numbers("44001")[0] == "44001"
    assert set(numbers("4000")) == set()
    # 40190, the bed rail, is shown under its bed 40101.
    assert set(numbers("4010")) == {"40101", "40102", "40105", "40106", "40190"}


def test_search_by_iso_code_prefix_with_or_without_spaces(sample_catalogue):
    rollators = {"44001", "44002", "44003", "44010"}
    assert set(numbers("120606")) == rollators
    assert set(numbers("12 06 06")) == rollators
    assert {"62154", "79927"} <= set(numbers("1203"))


def test_search_filters_by_product_area(sample_catalogue):
    assert set(numbers("madrass", product_area="pressure_care")) == {"42001", "42002", "42010"}
    assert numbers("madrass", product_area="mobility") == []
    assert set(numbers("", product_area="hearing")) == {"48001", "48002", "48010"}
    assert numbers("") == []


def test_results_show_price_delivery_stock_and_accessories_under_the_main_article(
    sample_catalogue,
):
    entries = {e.article.article_number: e for e in article_search(query="säng", day=TODAY)}
    bed = entries["40101"]
    assert bed.article.price_sek == Decimal("14900.00")
    assert bed.article.assortment_days == 7
    assert entries["40120"].article.assortment_days == 17
    assert bed.stock_state == StockState.IN_STOCK
    assert bed.orderable
    assert [a.article.article_number for a in bed.accessories] == ["40190"]
    assert entries["40199"].stock_state == StockState.PHASED_OUT


def test_the_search_runs_a_fixed_number_of_queries(sample_catalogue, django_assert_num_queries):
    """Pinned: threshold, articles, accessories, replacements, however many rows; with the
    logistics floor's availability (PRESC-8) one query for the page's articles and one for the
    replacement candidates not on the page."""
    Article.objects.filter(article_number="44002").update(out_of_stock=True)
    with django_assert_num_queries(6):
        entries = article_search(query="säng", day=TODAY)
        assert len(entries) >= 7
        assert any(e.replacement for e in entries)
        for entry in entries:
            _ = (entry.article.product_area.name, entry.article.agreement.supplier.name)
            for accessory in entry.accessories:
                _ = (accessory.article.product_area.name, accessory.article.main_article)
    with django_assert_num_queries(5):
        entries = article_search(query="120606", day=TODAY)
        assert any(e.replacement for e in entries)
    with django_assert_num_queries(3):
        article_search(query="", product_area="hearing", day=TODAY)


def test_an_article_whose_agreement_has_ended_cannot_be_ordered(sample_catalogue):
    Agreement.objects.filter(code="AVT-2019-002").update(
        valid_from=datetime.date(2019, 1, 1), valid_until=datetime.date(2023, 12, 31)
    )
    Agreement.objects.filter(code="AVT-2023-002").update(valid_from=datetime.date(2026, 7, 1))
    old_bed = Article.objects.select_related("agreement").get(article_number="40199")
    ok, reason = article_orderable(old_bed, TODAY)
    assert not ok
    assert "AVT-2019-002" in reason
    assert "2023-12-31" in reason
    rollator = Article.objects.select_related("agreement").get(article_number="44001")
    ok, reason = article_orderable(rollator, TODAY)
    assert not ok
    assert "2026-07-01" in reason
    assert article_orderable(rollator, datetime.date(2026, 7, 1)).ok


def test_a_phased_out_article_cannot_be_ordered_an_out_of_stock_one_can(sample_catalogue):
    Article.objects.filter(article_number="44001").update(out_of_stock=True)
    rollator = Article.objects.select_related("agreement").get(article_number="44001")
    assert article_orderable(rollator, TODAY).ok
    old_bed = Article.objects.select_related("agreement").get(article_number="40199")
    assert not article_orderable(old_bed, TODAY).ok


def test_presc_8_a_phased_out_article_gets_the_cheapest_orderable_in_stock_replacement(
    sample_catalogue,
):
    """PRESC-8: G-SANG-90 holds 40101 (14 900), 40102 (13 800) and the phased-out 40199."""
    old_bed = Article.objects.select_related("agreement").get(article_number="40199")
    replacement = replacement_for(old_bed, day=TODAY)
    assert replacement is not None
    assert replacement.article_number == "40102"
    assert replacement.replacement_group is not None
    assert replacement.replacement_group.kind == ReplacementKind.FIXED
    # The cheapest is out of stock: the next one in stock is proposed.
    Article.objects.filter(article_number="40102").update(out_of_stock=True)
    replacement = replacement_for(old_bed, day=TODAY)
    assert replacement is not None
    assert replacement.article_number == "40101"
    # Its agreement has ended as well: only the out-of-stock one is left, still better than
    # an article that cannot be ordered at all.
    Agreement.objects.filter(code="AVT-2024-011").update(valid_until=datetime.date(2026, 1, 1))
    other = AgreementFactory(code="AVT-2026-001", valid_from=datetime.date(2026, 1, 1))
    Article.objects.filter(article_number="40102").update(agreement=other)
    replacement = replacement_for(old_bed, day=TODAY)
    assert replacement is not None
    assert replacement.article_number == "40102"


def test_presc_8_an_out_of_stock_article_gets_an_in_stock_replacement_or_none(sample_catalogue):
    """PRESC-8, optional group G-ROLL: 44001 (2 900), 44002 (3 600), 44003 (3 900)."""
    Article.objects.filter(article_number="44001").update(out_of_stock=True)
    rollator = Article.objects.select_related("agreement").get(article_number="44001")
    replacement = replacement_for(rollator, day=TODAY)
    assert replacement is not None
    assert replacement.article_number == "44002"
    # Another out-of-stock article gains nothing: no proposal.
    Article.objects.filter(article_number__in=["44002", "44003"]).update(out_of_stock=True)
    assert replacement_for(rollator, day=TODAY) is None


def test_presc_8_no_proposal_for_an_article_that_needs_none_or_has_no_group(sample_catalogue):
    bed = Article.objects.select_related("agreement").get(article_number="40101")
    assert replacement_for(bed, day=TODAY) is None
    chair = Article.objects.select_related("agreement").get(article_number="45001")
    Article.objects.filter(pk=chair.pk).update(out_of_stock=True)
    chair.refresh_from_db()
    assert chair.replacement_group is None
    assert replacement_for(chair, day=TODAY) is None


def test_presc_8_a_group_never_proposes_an_article_of_another_group(db):
    group = ReplacementGroup.objects.create(code="G-A", kind=ReplacementKind.OPTIONAL)
    other = ReplacementGroup.objects.create(code="G-B", kind=ReplacementKind.OPTIONAL)
    wanted = ArticleFactory(replacement_group=group, out_of_stock=True, price_sek=Decimal(500))
    ArticleFactory(replacement_group=other, price_sek=Decimal(100))
    ArticleFactory(replacement_group=group, price_sek=Decimal(900))
    ArticleFactory(replacement_group=group, price_sek=Decimal(200), in_assortment=False)
    proposed = replacement_for(wanted, day=TODAY)
    assert proposed is not None
    assert proposed == Article.objects.get(replacement_group=group, price_sek=Decimal(900))


def test_the_article_detail_has_accessories_and_replacement(sample_catalogue):
    entry = article_detail(article_number="40199", day=TODAY)
    assert entry is not None
    assert entry.replacement is not None
    assert entry.replacement.article_number == "40102"
    main = article_detail(article_number="41001", day=TODAY)
    assert main is not None
    assert [a.article.article_number for a in main.accessories] == ["41020"]
    assert article_detail(article_number="99999", day=TODAY) is None


def test_an_accessory_whose_main_article_is_a_hit_is_listed_once_under_it() -> None:
    main = ArticleFactory(name="Rollator Gloss")
    basket = ArticleFactory(
        name="Rollatorkorg", kind=ArticleKind.ACCESSORY, main_article=main, price_sek=290
    )
    entries = article_search(query="rollator", day=datetime.date(2026, 11, 22))
    assert [entry.article.pk for entry in entries] == [main.pk]
    assert [accessory.article.pk for accessory in entries[0].accessories] == [basket.pk]
