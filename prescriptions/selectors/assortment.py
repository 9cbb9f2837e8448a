"""The public assortment (*utbud*) for residents, read without logging in (CAT-2).

Like 1177's Tema hjälpmedel: what the region lends or sells, searchable by name or ISO 9999
code, and how to get it. The published assortment is what can be prescribed today: an article
still in the assortment whose agreement is in force, main articles and consumables (an
accessory is chosen with its main article by the prescriber).

This module reads the catalogue's own tables and nothing else: it imports only the catalogue
models (not ``prescriptions.models``' other modules, not ``patients`` or ``protection``), so a
page built on it has no way to reach patient data. ``tests/prescriptions/test_public_assortment.py``
checks both the imports and the SQL it runs. Prices, suppliers, agreements and stock are the
region's business and are not selected.
"""

from __future__ import annotations

import datetime
import re

from django.db.models import Q, QuerySet

from prescriptions.models.catalogue import Article, ArticleKind, published_on

PUBLIC_LIMIT = 50
# The columns a resident may read: nothing of price, supplier, agreement or stock.
PUBLIC_FIELDS = (
    "article_number",
    "name",
    "iso9999",
    "description",
    "kind",
    "supply",
    "product_area__name",
)
_ISO = re.compile(r"[\d ]+")


def _published(day: datetime.date) -> QuerySet[Article]:
    return (
        # CAT-1: an article published ahead of time shows from its publication day.
        Article.objects.filter(
            published_on(day), kind__in=[ArticleKind.MAIN, ArticleKind.CONSUMABLE]
        )
        .filter(Q(agreement__valid_from__isnull=True) | Q(agreement__valid_from__lte=day))
        .filter(Q(agreement__valid_until__isnull=True) | Q(agreement__valid_until__gte=day))
        .select_related("product_area")
        .only(*PUBLIC_FIELDS)
    )


def public_article_search(
    *, query: str, day: datetime.date, product_area: str | None = None
) -> list[Article]:
    """Published articles matching a name (any word in it) or an ISO 9999 code prefix."""
    articles = _published(day)
    query = query.strip()
    if _ISO.fullmatch(query):
        articles = articles.filter(iso9999__startswith=query.replace(" ", ""))
    elif query:
        for word in query.split():
            articles = articles.filter(name__icontains=word)
    if product_area:
        articles = articles.filter(product_area_id=product_area)
    return list(articles.order_by("name", "article_number")[:PUBLIC_LIMIT])


def public_article_get(*, article_number: str, day: datetime.date) -> Article | None:
    """A published article, or None (not found and not published look the same)."""
    return _published(day).filter(article_number=article_number).first()
