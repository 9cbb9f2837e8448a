"""KPI-1: delivery reliability per month for the 7-day assortment, the 17-day assortment and
urgent orders, against their targets, per agreement type (as the seed's table of "Avtalade
mål": *samarbetsavtal* and *överenskommelsen*).

How a line is counted (decided here, and said on the page):

- Only customer orders' lines: a replenishment of a unit's buffer store is not a delivery to a
  customer. Cancelled lines are not counted.
- The kind: urgent when the order is urgent (promised within 24 hours, on the next working
  day), else the article's assortment (7 or 17 days).
- Each line counts once, in the month of its promise (``promised_on``), so that a month's
  figure does not move when a late line is finally delivered in the next month.
- A delivered line (``delivered_on`` set) is on time when ``delivered_on <= promised_on`` and
  missed otherwise. A line still open after its promise counts as missed; an open line whose
  promise has not yet passed is not counted yet.

The whole table is one query grouped by month, kind and agreement type in SQL
(:func:`kpi1_table`); the missed lines of one cell are a paginated list
(:func:`kpi1_missed_lines`).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When
from django.db.models.functions import TruncMonth
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from logistics.models import CustomerOrderLine, LineState, OrderKind
from prescriptions.models import AgreementType

SEVEN: Final = "7"
SEVENTEEN: Final = "17"
URGENT: Final = "urgent"
KINDS: Final = (SEVEN, SEVENTEEN, URGENT)
KIND_LABELS: Final[dict[str, Promise]] = {
    SEVEN: _("7-day assortment"),
    SEVENTEEN: _("17-day assortment"),
    URGENT: _("urgent orders"),
}
# KPI-1's agreed targets (the seed's "Mål" column), in per cent of lines delivered on time.
TARGETS: Final[dict[str, Decimal]] = {
    SEVEN: Decimal("98"),
    SEVENTEEN: Decimal("98"),
    URGENT: Decimal("100"),
}
AGREEMENTS: Final = tuple(AgreementType)
MONTHS_SHOWN: Final = 12


@dataclass(frozen=True)
class Cell:
    month: datetime.date
    total: int
    on_time: int
    target: Decimal

    @property
    def missed(self) -> int:
        return self.total - self.on_time

    @property
    def percent(self) -> Decimal | None:
        if not self.total:
            return None
        value = Decimal(self.on_time * 100) / Decimal(self.total)
        return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    @property
    def below_target(self) -> bool:
        # Exact, not on the rounded figure: 97.996 % is below 98 %.
        return bool(self.total) and self.on_time * 100 < self.target * self.total


@dataclass(frozen=True)
class Row:
    agreement: AgreementType
    kind: str
    target: Decimal
    cells: list[Cell]

    @property
    def kind_label(self) -> Promise:
        return KIND_LABELS[self.kind]

    @property
    def key(self) -> str:
        return f"{self.agreement.value}-{self.kind}"


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def months_back(until: datetime.date, count: int = MONTHS_SHOWN) -> list[datetime.date]:
    """The ``count`` months ending with ``until``'s month, oldest first."""
    year, month = until.year, until.month
    months: list[datetime.date] = []
    for _index in range(count):
        months.append(datetime.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(months))


def month_end(month: datetime.date) -> datetime.date:
    following = month_start(month + datetime.timedelta(days=32))
    return following - datetime.timedelta(days=1)


def counted_lines(*, today: datetime.date) -> QuerySet[CustomerOrderLine]:
    """The lines KPI-1 counts, with their kind: customer orders' lines, not cancelled, that are
    delivered or whose promise has passed."""
    return (
        CustomerOrderLine.objects.filter(order__kind=OrderKind.CUSTOMER)
        .exclude(state=LineState.CANCELLED)
        .filter(Q(delivered_on__isnull=False) | Q(promised_on__lt=today))
        .annotate(
            kpi_kind=Case(
                When(order__urgent=True, then=Value(URGENT)),
                When(article__assortment_days=17, then=Value(SEVENTEEN)),
                default=Value(SEVEN),
                output_field=CharField(),
            )
        )
    )


ON_TIME: Final = Q(delivered_on__isnull=False, delivered_on__lte=F("promised_on"))
MISSED: Final = Q(delivered_on__isnull=True) | Q(delivered_on__gt=F("promised_on"))


def kpi1_table(*, months: list[datetime.date], today: datetime.date) -> list[Row]:
    """Every agreement type by kind row with a cell per month, from one grouped query."""
    found: dict[tuple[str, str, datetime.date], tuple[int, int]] = {}
    if months:
        grouped = (
            counted_lines(today=today)
            .filter(promised_on__gte=months[0], promised_on__lte=month_end(months[-1]))
            .annotate(month=TruncMonth("promised_on"), agreement=F("order__agreement_type"))
            .values("month", "kpi_kind", "agreement")
            .annotate(total=Count("pk"), on_time=Count("pk", filter=ON_TIME))
            .order_by()
        )
        for entry in grouped:
            month = entry["month"]
            if isinstance(month, datetime.datetime):
                month = month.date()
            found[(entry["agreement"], entry["kpi_kind"], month)] = (
                entry["total"],
                entry["on_time"],
            )
    rows: list[Row] = []
    for agreement in AGREEMENTS:
        for kind in KINDS:
            cells = []
            for month in months:
                total, on_time = found.get((agreement.value, kind, month), (0, 0))
                cells.append(Cell(month=month, total=total, on_time=on_time, target=TARGETS[kind]))
            rows.append(Row(agreement=agreement, kind=kind, target=TARGETS[kind], cells=cells))
    return rows


def kpi1_missed_lines(
    *, month: datetime.date, kind: str, agreement: str, today: datetime.date
) -> QuerySet[CustomerOrderLine]:
    """The lines of one cell that missed their promise: delivered late, or still open after it.
    Order numbers, articles and units only; no patient (the list is for staff without grants)."""
    return (
        counted_lines(today=today)
        .filter(
            Q(kpi_kind=kind),
            promised_on__gte=month_start(month),
            promised_on__lte=month_end(month),
            order__agreement_type=agreement,
        )
        .filter(MISSED)
        .select_related("order", "order__unit__unit", "article")
        .only(
            "position",
            "quantity",
            "state",
            "promised_on",
            "delivered_on",
            "article__article_number",
            "article__name",
            "order__number",
            "order__urgent",
            "order__unit__unit__name",
        )
        .order_by("promised_on", "order__number", "position")
    )
