"""The catalogue as a file for the national catalogue (CAT-2): the import's own format.

``catalogue_export`` writes every article with its agreement, in the columns of
``catalogue.csv`` plus the optional ones (description, the agreement's period, the article's
publication and withdrawal days), so that the file loads again with ``catalogue_import`` and
changes nothing (docs/catalogue.md). It reads the catalogue's tables only: nothing in the file is
about a person.
"""

from __future__ import annotations

import csv
import datetime
from pathlib import Path

from prescriptions.models.catalogue import Article
from prescriptions.services.catalogue import CATALOGUE_COLUMNS, OPTIONAL_COLUMNS

EXPORT_COLUMNS = (*CATALOGUE_COLUMNS, *OPTIONAL_COLUMNS)


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _day(value: datetime.date | None) -> str:
    return value.isoformat() if value else ""


def catalogue_export(*, path: Path) -> int:
    """Write the catalogue to ``path`` (UTF-8, comma-separated, header row); return the rows."""
    articles = Article.objects.select_related(
        "main_article", "replacement_group", "agreement__supplier"
    ).order_by("article_number")
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(EXPORT_COLUMNS)
        for article in articles.iterator(chunk_size=2000):
            group = article.replacement_group
            agreement = article.agreement
            writer.writerow(
                [
                    article.article_number,
                    article.name,
                    article.iso9999,
                    article.product_area_id,
                    f"{article.price_sek:.2f}",
                    article.kind,
                    article.main_article.article_number if article.main_article else "",
                    _yes_no(article.advanced_service),
                    article.assortment_days,
                    _yes_no(article.in_assortment),
                    article.lifespan_years,
                    article.supply,
                    group.code if group else "",
                    group.kind if group else "",
                    agreement.supplier.name,
                    agreement.code,
                    f"{article.weight_kg:.3f}",
                    article.length_cm,
                    article.girth_cm,
                    article.description,
                    _day(agreement.valid_from),
                    _day(agreement.valid_until),
                    _day(article.assortment_from),
                    _day(article.assortment_until),
                ]
            )
            count += 1
    return count
