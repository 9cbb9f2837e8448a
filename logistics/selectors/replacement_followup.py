"""KPI-4: follow-up of replacement groups per quarter, for the assortment owner.

Per replacement group (*ersättningsgrupp*): how many of its articles were prescribed in the
quarter (the prescriptions floor's count, ``prescribed_lines_in``) against how many the region
bought (goods received into its stores in the quarter), and whether the group's articles are
ready in stock: the available quantity in the central store of each article (the figure the
catalogue's replacement proposal reads, PRESC-8). A group is *ready* when at least one of its
articles in the assortment has stock available. On this floor because stock is logistics' and
prescriptions may not read it. Counts only: no patient is read. Five queries, whatever the
number of groups.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, Sum

from logistics.models import GoodsReceiptLine
from logistics.selectors.availability import central_availability
from prescriptions.models import Article, ReplacementGroup
from prescriptions.selectors.followup import Quarter, prescribed_lines_in


@dataclass(frozen=True)
class GroupArticle:
    article_number: str
    name: str
    in_assortment: bool
    # None: the central store keeps no figure for it (the catalogue's own flag decides).
    available: int | None


@dataclass(frozen=True)
class GroupRow:
    code: str
    kind_label: str
    prescribed: int
    bought: int
    articles: list[GroupArticle]

    @property
    def ready(self) -> bool:
        return any(a.in_assortment and (a.available or 0) > 0 for a in self.articles)


def replacement_group_follow_up(*, quarter: Quarter) -> list[GroupRow]:
    prescribed = dict(
        prescribed_lines_in(quarter)
        .filter(article__replacement_group__isnull=False)
        .values("article__replacement_group")
        .annotate(total=Sum("quantity"))
        .values_list("article__replacement_group", "total")
    )
    bought = dict(
        GoodsReceiptLine.objects.filter(
            receipt__received_at__date__gte=quarter.first_day,
            receipt__received_at__date__lte=quarter.last_day,
            article__replacement_group__isnull=False,
        )
        .values("article__replacement_group")
        .annotate(total=Sum("quantity"))
        .values_list("article__replacement_group", "total")
    )
    groups = list(
        ReplacementGroup.objects.order_by("code").prefetch_related(
            Prefetch(
                "articles",
                queryset=Article.objects.order_by("article_number").only(
                    "article_number", "name", "in_assortment", "replacement_group"
                ),
            )
        )
    )
    stock = central_availability(a.pk for g in groups for a in g.articles.all())
    return [
        GroupRow(
            code=group.code,
            kind_label=group.get_kind_display(),
            prescribed=int(prescribed.get(group.pk) or 0),
            bought=int(bought.get(group.pk) or 0),
            articles=[
                GroupArticle(a.article_number, a.name, a.in_assortment, stock.get(a.pk))
                for a in group.articles.all()
            ],
        )
        for group in groups
    ]
