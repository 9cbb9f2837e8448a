"""KPI-5: prescribing per article, product area and unit, and articles without demand.

For the assortment owner (CAT-1, permission ``prescriptions.follow_up_assortment``). Counts only:
the report groups prescription lines by article, product area and the prescribing unit, and
never names or counts a patient. A line counts in the quarter its prescription was submitted,
unless the prescription was cancelled (a draft was never submitted). Articles without demand
are the published assortment's main articles and consumables (in the assortment, agreement in
force on the quarter's last day) with no line in the quarter: candidates for phasing out.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

from prescriptions.models import Article, ArticleKind, PrescriptionLine, PrescriptionState

# The list of articles without demand is long at a region's volume; the page shows the first
# ones by article number and the total.
WITHOUT_DEMAND_SHOWN = 200


@dataclass(frozen=True)
class Quarter:
    year: int
    quarter: int

    @property
    def first_day(self) -> datetime.date:
        return datetime.date(self.year, 3 * self.quarter - 2, 1)

    @property
    def last_day(self) -> datetime.date:
        if self.quarter == 4:
            return datetime.date(self.year, 12, 31)
        return datetime.date(self.year, 3 * self.quarter + 1, 1) - datetime.timedelta(days=1)

    @classmethod
    def of(cls, day: datetime.date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)


@dataclass(frozen=True)
class AreaRow:
    product_area: str
    lines: int
    quantity: int


@dataclass(frozen=True)
class ArticleUnitRow:
    article_number: str
    article_name: str
    product_area: str
    unit: str
    prescriptions: int
    quantity: int


@dataclass(frozen=True)
class FollowUp:
    quarter: Quarter
    per_area: list[AreaRow]
    per_article_and_unit: list[ArticleUnitRow]
    without_demand: list[Article]
    without_demand_total: int


def prescribed_lines_in(quarter: Quarter) -> QuerySet[PrescriptionLine]:
    """The prescription lines that count as prescribed in the quarter (KPI-4, KPI-5)."""
    return PrescriptionLine.objects.filter(_lines_in(quarter))


def _lines_in(quarter: Quarter) -> Q:
    return Q(
        prescription__submitted_at__date__gte=quarter.first_day,
        prescription__submitted_at__date__lte=quarter.last_day,
    ) & ~Q(prescription__state__in=[PrescriptionState.DRAFT, PrescriptionState.CANCELLED])


def prescribing_follow_up(*, quarter: Quarter) -> FollowUp:
    """The quarter's prescribing per product area, per article and unit, and the articles
    without demand. Four queries, whatever the volume."""
    lines = prescribed_lines_in(quarter)
    per_area = [
        AreaRow(row["article__product_area__name"], row["lines"], row["quantity"])
        for row in lines.values("article__product_area__name")
        .annotate(lines=Count("pk"), quantity=Sum("quantity"))
        .order_by("article__product_area__name")
    ]
    per_article_and_unit = [
        ArticleUnitRow(
            row["article__article_number"],
            row["article__name"],
            row["article__product_area__name"],
            row["prescription__unit__unit__name"],
            row["prescriptions"],
            row["quantity"],
        )
        for row in lines.values(
            "article__article_number",
            "article__name",
            "article__product_area__name",
            "prescription__unit__unit__name",
        )
        .annotate(prescriptions=Count("prescription", distinct=True), quantity=Sum("quantity"))
        .order_by("article__product_area__name", "article__name", "prescription__unit__unit__name")
    ]
    day = quarter.last_day
    idle = (
        Article.objects.filter(
            in_assortment=True, kind__in=[ArticleKind.MAIN, ArticleKind.CONSUMABLE]
        )
        .filter(Q(agreement__valid_from__isnull=True) | Q(agreement__valid_from__lte=day))
        .filter(Q(agreement__valid_until__isnull=True) | Q(agreement__valid_until__gte=day))
        .filter(
            ~Exists(PrescriptionLine.objects.filter(_lines_in(quarter), article=OuterRef("pk")))
        )
    )
    return FollowUp(
        quarter=quarter,
        per_area=per_area,
        per_article_and_unit=per_article_and_unit,
        without_demand=list(
            idle.select_related("product_area").order_by("article_number")[:WITHOUT_DEMAND_SHOWN]
        ),
        without_demand_total=idle.count(),
    )
