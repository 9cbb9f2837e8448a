"""Reads of the catalogue: search, an article's page, orderability and the replacement proposal.

The catalogue holds no patient data; who may read it is a role permission
(``prescriptions.search_catalogue``: prescribers, customer service, technicians; CAT-1).

Orderability: an article can be ordered on a day when its agreement is in force that day and it
is still in the assortment. Out of stock does not stop an order (it waits for stock), but like
phasing out it makes the catalogue propose a replacement (PRESC-8).

The replacement proposal (PRESC-8, ``replacement_for``): for an article that is phased out, out
of stock or whose agreement is not in force, another article of its replacement group that can
be ordered that day; one in stock before one out of stock, then older assortment (its agreement's
valid-from date, oldest first: the region uses what it already owns), then the cheapest, then the
shortest delivery promise, then the lowest article number (so the choice is stable). In stock
means available in the region's stores when the logistics floor reports a figure for the article
(``prescriptions.registry.availability``), else the catalogue's out-of-stock flag. An out-of-stock
article is never proposed for an article that is only out of stock itself: that gains nothing.
The group's kind (fixed: substitute; optional: ask) is for the prescription to act on.
"""

from __future__ import annotations

import datetime
import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    F,
    FloatField,
    Func,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils.translation import gettext as _

from prescriptions import registry
from prescriptions.models import Agreement, Article, ArticleKind
from prescriptions.models.catalogue import published_on

SEARCH_LIMIT = 50
# pg_trgm's default word-similarity threshold (0.6) misses common one-letter slips in short
# Swedish words ("kryka" for "krycka" scores 0.5); 0.5 keeps the noise low (docs/catalogue.md).
WORD_SIMILARITY_THRESHOLD = "0.5"
# Digits, with the spaces people type in ISO codes ("12 06 06") allowed.
_DIGITS = re.compile(r"[\d ]+")


class Orderability(NamedTuple):
    """Whether an article can be ordered on a day, and if not, why (in the user's language)."""

    ok: bool
    reason: str


class StockState(enum.StrEnum):
    IN_STOCK = "in_stock"
    OUT_OF_STOCK = "out_of_stock"
    PHASED_OUT = "phased_out"


@dataclass
class CatalogueEntry:
    """One article as the catalogue shows it: what it costs, when it comes, whether it can be
    ordered, and what the catalogue proposes instead (PRESC-8)."""

    article: Article
    orderability: Orderability
    stock_state: StockState
    replacement: Article | None = None
    # PRESC-8: the quantity available in the region's stores, None when no floor keeps it.
    available: int | None = None
    accessories: list[CatalogueEntry] = field(default_factory=list)

    @property
    def orderable(self) -> bool:
        return self.orderability.ok

    @property
    def needs_replacement(self) -> bool:
        return not self.orderability.ok or self.stock_state == StockState.OUT_OF_STOCK


class _WordSimilar(Func):
    """``name %> query``: the query is similar to some part of the name (pg_trgm word similarity,
    above ``pg_trgm.word_similarity_threshold``, 0.6 by default). Written as the operator, with
    the indexed column on the left, so that the trigram index on the name answers it."""

    arg_joiner = " %%> "
    template = "(%(expressions)s)"
    output_field = BooleanField()


class _WordDistance(Func):
    """``name <->> query``: 1 - word similarity of the query to the name, the distance the GiST
    trigram index orders by (nearest first), so that a name search reads only its best names
    from the index instead of scoring every name in the catalogue."""

    arg_joiner = " <->> "
    template = "(%(expressions)s)"
    output_field = FloatField()


def article_orderable(article: Article, day: datetime.date) -> Orderability:
    """Whether ``article`` can be ordered on ``day``. Reads ``article.agreement`` (select it)."""
    agreement = article.agreement
    if agreement.valid_from is not None and day < agreement.valid_from:
        return Orderability(
            False,
            _("The agreement %(code)s is not in force until %(day)s.")
            % {"code": agreement.code, "day": agreement.valid_from.isoformat()},
        )
    if agreement.valid_until is not None and agreement.valid_until < day:
        return Orderability(
            False,
            _("The agreement %(code)s ended on %(day)s; the article cannot be ordered.")
            % {"code": agreement.code, "day": agreement.valid_until.isoformat()},
        )
    if not article.in_assortment_on(day):
        if article.assortment_from is None or article.assortment_from <= day:
            return Orderability(False, _("The article has been phased out of the assortment."))
        # CAT-1: published ahead of time; prescribing offers it from that day.
        return Orderability(
            False,
            _("The article is in the assortment from %(day)s.")
            % {"day": article.assortment_from.isoformat() if article.assortment_from else ""},
        )
    return Orderability(True, "")


def article_stock_state(article: Article, out: bool | None = None) -> StockState:
    if not article.in_assortment:
        return StockState.PHASED_OUT
    if article.out_of_stock if out is None else out:
        return StockState.OUT_OF_STOCK
    return StockState.IN_STOCK


def stock_available(article_ids: Iterable[int]) -> dict[int, int] | None:
    """PRESC-8: the quantity available now per article from the floor that keeps stock
    (``prescriptions.registry``), or None when none does. An article it leaves out is judged by
    its own out-of-stock flag. One query per provider."""
    return registry.availability(article_ids)


def _out(article: Article, available: dict[int, int] | None) -> bool:
    """Out of stock: nothing available in the region's stores, or (no figure) the flag."""
    if available is not None and article.pk in available:
        return available[article.pk] <= 0
    return article.out_of_stock


def _needs_replacement(article: Article, orderability: Orderability, out: bool) -> bool:
    return not orderability.ok or out


def replacement_for(article: Article, *, day: datetime.date) -> Article | None:
    """PRESC-8: the article the catalogue proposes instead of ``article`` on ``day``, or None.

    None when the article needs no replacement, has no replacement group, or the group has no
    suitable article. See the module docstring for the order of preference. Three queries at
    most (the availability of the article, the group, the availability of the group).
    """
    return _replacements([article], day, stock_available([article.pk]))[0].get(article.pk)


def _replacements(
    articles: Iterable[Article], day: datetime.date, available: dict[int, int] | None
) -> tuple[dict[int, Article | None], dict[int, int] | None]:
    """The replacement of each article that needs one, from one query over their groups (and
    one for the availability of candidates not yet known); and the availability known."""
    needing = [
        a
        for a in articles
        if a.replacement_group_id is not None
        and _needs_replacement(a, article_orderable(a, day), _out(a, available))
    ]
    if not needing:
        return {}, available
    groups = {a.replacement_group_id for a in needing}
    query = (
        Article.objects.filter(published_on(day), replacement_group_id__in=groups)
        .filter(Q(agreement__valid_from__isnull=True) | Q(agreement__valid_from__lte=day))
        .filter(Q(agreement__valid_until__isnull=True) | Q(agreement__valid_until__gte=day))
        .select_related("agreement", "replacement_group", "product_area")
        # Older assortment first (what the region already owns), then the cheapest, the
        # shortest promise, the lowest number; in stock before out of stock is sorted below.
        .order_by(
            F("agreement__valid_from").asc(nulls_first=True),
            "price_sek",
            "assortment_days",
            "article_number",
        )
    )
    found_candidates = list(query)
    if available is not None:
        unknown = [c.pk for c in found_candidates if c.pk not in available]
        if unknown:
            more = stock_available(unknown) or {}
            available = {**available, **more}
    candidates: dict[int, list[Article]] = {}
    for candidate in sorted(found_candidates, key=lambda c: _out(c, available)):
        assert candidate.replacement_group_id is not None  # filtered on it above
        candidates.setdefault(candidate.replacement_group_id, []).append(candidate)
    found: dict[int, Article | None] = {}
    for article in needing:
        assert article.replacement_group_id is not None
        found[article.pk] = next(
            (
                c
                for c in candidates.get(article.replacement_group_id, [])
                if c.pk != article.pk
                # In stock, or the original cannot be ordered at all (then waiting is better).
                and (not _out(c, available) or not article_orderable(article, day).ok)
            ),
            None,
        )
    return found, available


def _accessories() -> QuerySet[Article]:
    return Article.objects.select_related(
        "agreement", "agreement__supplier", "product_area", "replacement_group"
    ).order_by("name", "article_number")


def _entries(articles: list[Article], day: datetime.date) -> list[CatalogueEntry]:
    ids = [a.pk for a in articles]
    ids += [x.pk for a in articles if a.kind == ArticleKind.MAIN for x in a.accessories.all()]
    replacements, available = _replacements(articles, day, stock_available(ids))
    entries = []
    for article in articles:
        entry = _entry(article, day, replacements.get(article.pk), available)
        if article.kind == ArticleKind.MAIN:
            # Accessories are listed under their main article; their own replacement is looked
            # up on their own page, not here, to keep the list at a fixed number of queries.
            entry.accessories = [
                _entry(accessory, day, None, available) for accessory in article.accessories.all()
            ]
        entries.append(entry)
    return entries


def _entry(
    article: Article,
    day: datetime.date,
    replacement: Article | None,
    available: dict[int, int] | None,
) -> CatalogueEntry:
    return CatalogueEntry(
        article=article,
        orderability=article_orderable(article, day),
        stock_state=article_stock_state(article, _out(article, available)),
        replacement=replacement,
        available=None if available is None else available.get(article.pk),
    )


def article_search(
    *,
    query: str,
    day: datetime.date,
    product_area: str | None = None,
    limit: int = SEARCH_LIMIT,
) -> list[CatalogueEntry]:
    """Search the catalogue: by name (typo-tolerant), article number (exact or prefix) and ISO
    9999 code (prefix, spaces ignored), optionally within one product area (its code).

    Best matches first: an exact article number, then by name similarity, then by name. An empty
    query lists the product area (or nothing when no area is given). Four queries at most,
    however many results: the similarity threshold (name searches only), the articles, their
    accessories, and the replacements' groups.
    """
    query = normalise_query(query)
    articles = article_matches(query=query, product_area=product_area, limit=limit)
    if articles is None:
        return []
    if query and not _DIGITS.fullmatch(query):
        with connection.cursor() as cursor:
            # Session-wide, set before every name search: only this search uses the operator.
            cursor.execute(
                "SELECT set_config('pg_trgm.word_similarity_threshold', %s, false)",
                [WORD_SIMILARITY_THRESHOLD],
            )
    articles = articles.select_related(
        "agreement", "agreement__supplier", "product_area", "replacement_group", "main_article"
    ).prefetch_related(Prefetch("accessories", queryset=_accessories()))
    found = list(articles[:limit])
    # An accessory whose main article is also a hit is shown under it, not a second time.
    main_ids = {article.pk for article in found if article.kind == ArticleKind.MAIN}
    return _entries([a for a in found if a.main_article_id not in main_ids], day)


def normalise_query(query: str) -> str:
    return " ".join(query.split())[:100]


def article_matches(
    *, query: str, product_area: str | None, limit: int = SEARCH_LIMIT
) -> QuerySet[Article] | None:
    """The articles a (normalised) search matches, best first; None when nothing is asked.

    A name search relies on the session's ``pg_trgm.word_similarity_threshold``, which
    ``article_search`` sets. It takes only the ``limit`` names nearest the query from the GiST
    trigram index (``<->>``), so that PostgreSQL scores those and not every similar name (a
    common word such as "90" is similar to thousands); among names exactly as similar as the
    last one taken, which ones make the page is the index's choice, not alphabetical.
    """
    articles = Article.objects.all()
    if product_area:
        articles = articles.filter(product_area_id=product_area)
    if not query:
        return articles.order_by("name", "article_number") if product_area else None
    compact = query.replace(" ", "")
    condition = Q(article_number__startswith=compact)
    if _DIGITS.fullmatch(query):
        # Digits only: an article number or an ISO code, never a name's sizes ("90").
        condition |= Q(iso9999__startswith=compact)
    else:
        # Two index scans joined by UNION, not an OR in one WHERE: an OR of the prefix and the
        # similarity would make PostgreSQL filter every row.
        by_number = articles.filter(article_number__startswith=compact).order_by().values("pk")
        by_name = (
            articles.filter(_WordSimilar(F("name"), Value(query)))
            .order_by(_WordDistance(F("name"), Value(query)))
            .values("pk")[:limit]
        )
        condition = Q(pk__in=by_number.union(by_name, all=True))
    return articles.filter(condition).order_by(
        Case(When(article_number=compact, then=Value(0)), default=Value(1)),
        TrigramWordSimilarity(query, "name").desc(),
        "name",
        "article_number",
    )


def article_detail(*, article_number: str, day: datetime.date) -> CatalogueEntry | None:
    """One article with its accessories and its replacement, or None when there is none."""
    article = (
        Article.objects.select_related(
            "agreement", "agreement__supplier", "product_area", "replacement_group", "main_article"
        )
        .prefetch_related(Prefetch("accessories", queryset=_accessories()))
        .filter(article_number=article_number)
        .first()
    )
    if article is None:
        return None
    return _entries([article], day)[0]


AGREEMENT_SEARCH_LIMIT = 50


def agreement_search_for_user(*, user: Any, query: str) -> tuple[list[Any], list[Any]]:
    """CAT-1: product and agreement search (a role of its own): agreements by code or supplier,
    articles by number, name or ISO 9999 code, each with its agreement and supplier. Catalogue
    data only; the caller's view checks prescriptions.search_catalogue."""
    query = query.strip()
    if not query:
        return [], []
    agreements = list(
        Agreement.objects.filter(Q(code__icontains=query) | Q(supplier__name__icontains=query))
        .select_related("supplier")
        .order_by("code")[:AGREEMENT_SEARCH_LIMIT]
    )
    articles = list(
        Article.objects.filter(
            Q(article_number__istartswith=query)
            | Q(name__icontains=query)
            | Q(iso9999__istartswith=query)
            | Q(agreement__code__iexact=query)
        )
        .select_related("agreement__supplier")
        .order_by("article_number")[:AGREEMENT_SEARCH_LIMIT]
    )
    return agreements, articles
