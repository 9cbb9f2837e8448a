"""PRESC-8's availability, read by the catalogue through ``prescriptions.registry``.

Only the region's central store counts: buffer and customer stores hold goods for their own
unit and cannot serve another unit's prescription, and the central store is where a draft's
lines are reserved (LOG-1). An article without a row in an active central store is left out, so
the catalogue's own out-of-stock flag decides for it (an article the region does not stock, such
as one its supplier delivers directly). One query."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Sum

from logistics.models import LocationKind, StockLevel


def central_availability(article_ids: Iterable[int]) -> dict[int, int]:
    rows = (
        StockLevel.objects.filter(
            article_id__in=list(article_ids),
            location__kind=LocationKind.CENTRAL,
            location__active=True,
        )
        .values("article_id")
        .annotate(total=Sum("available"))
        .values_list("article_id", "total")
    )
    return {article_id: int(total or 0) for article_id, total in rows}
