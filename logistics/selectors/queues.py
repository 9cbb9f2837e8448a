"""The logistics start page's queues: what is waiting for the store's staff, with a count on
each, all counted in one query.

A queue is one :class:`Queue` entry in :data:`QUEUES`: a label, the rows it counts (any
queryset: order lines, orders, or a later part's pick waves, routes or purchase proposals) and
the page it links to. The lead adds a part's queue with one line, e.g.::

    Queue("waves", _("Pick waves to work"), lambda day: PickWave.objects.filter(...),
          url_name="logistics:waves")

:func:`queue_counts` counts every queue in a single SQL statement (one scalar subquery per
queue; the order-line queues are plain filters on ``CustomerOrderLine``'s state index). The
queues of order lines also have a list page (:func:`queue_lines`), which shows order numbers,
articles and units, never a patient: logistics staff hold no grants.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from logistics.models import (
    CustomerOrder,
    CustomerOrderLine,
    DirectDelivery,
    DirectDeliveryState,
    LineState,
    OrderKind,
    Package,
    PackageState,
    PickWave,
    WaveState,
)
from logistics.selectors.stock import proposal_levels
from logistics.services.state import OPEN_ORDER_STATES

L = LineState

# A line is open until it is delivered or cancelled.
OPEN_LINE_STATES: Final = frozenset(
    {L.RECEIVED, L.BACKORDERED, L.ALLOCATED, L.PICKING, L.PICKED, L.PACKED, L.DISPATCHED}
)
# The list page's route; a queue linking anywhere else names its own route without a slug.
QUEUE_LIST_ROUTE: Final = "logistics:queue"


@dataclass(frozen=True)
class Queue:
    """One queue of the start page.

    ``rows(day)`` is the queryset whose rows the count counts (``day`` is today, for queues
    that depend on it). ``lines(day)``, when given, is the filter of open order lines the
    queue's list page shows; such a queue links to ``/logistics/queue/<slug>/``. A queue of
    another part (pick waves, routes) gives no ``lines`` and names its own ``url_name``."""

    slug: str
    label: str | Promise
    rows: Callable[[datetime.date], QuerySet[Any]]
    lines: Callable[[datetime.date], Q] | None = None
    url_name: str = QUEUE_LIST_ROUTE


def open_lines() -> QuerySet[CustomerOrderLine]:
    return CustomerOrderLine.objects.filter(state__in=OPEN_LINE_STATES)


def line_queue(slug: str, label: str | Promise, condition: Callable[[datetime.date], Q]) -> Queue:
    """A queue of open order lines matching ``condition``, counted as lines."""
    return Queue(
        slug=slug,
        label=label,
        rows=lambda day: open_lines().filter(condition(day)),
        lines=condition,
    )


def order_queue(slug: str, label: str | Promise, **condition: Any) -> Queue:
    """A queue of open orders matching ``condition`` (fields of ``CustomerOrder``), counted as
    orders; its list page shows those orders' open lines."""
    on_lines = {f"order__{field}": value for field, value in condition.items()}
    return Queue(
        slug=slug,
        label=label,
        rows=lambda day: CustomerOrder.objects.filter(state__in=OPEN_ORDER_STATES, **condition),
        lines=lambda day: Q(**on_lines),
    )


QUEUES: Final[list[Queue]] = [
    line_queue(
        "to-allocate",
        _("Order lines to allocate"),
        # A supplier's direct delivery is not allocated from the region's stores (LOG-3).
        lambda day: Q(state__in=[L.RECEIVED, L.BACKORDERED], order__supplier_direct=False),
    ),
    line_queue("waiting", _("Waiting for stock"), lambda day: Q(state=L.BACKORDERED)),
    line_queue("to-pick", _("To pick"), lambda day: Q(state=L.ALLOCATED)),
    line_queue("picking", _("Being picked"), lambda day: Q(state=L.PICKING)),
    line_queue("to-pack", _("To pack"), lambda day: Q(state=L.PICKED)),
    line_queue("out", _("Out for delivery"), lambda day: Q(state=L.DISPATCHED)),
    line_queue("late", _("Late (promise passed)"), lambda day: Q(promised_on__lt=day)),
    order_queue("urgent", _("Urgent orders open"), urgent=True),
    order_queue("replenishments", _("Open replenishments"), kind=OrderKind.REPLENISHMENT),
    # Picking and delivery: counted as waves and packages, each linking to its own page.
    Queue(
        slug="waves",
        label=_("Pick waves to pick"),
        rows=lambda day: PickWave.objects.filter(state=WaveState.OPEN),
        url_name="logistics:waves",
    ),
    Queue(
        slug="to-dispatch",
        label=_("Packages to dispatch"),
        rows=lambda day: Package.objects.filter(state=PackageState.PACKED),
        url_name="logistics:routes",
    ),
    Queue(
        slug="to-confirm",
        label=_("Deliveries to confirm"),
        rows=lambda day: Package.objects.filter(state=PackageState.DISPATCHED),
        url_name="logistics:deliveries",
    ),
    Queue(
        slug="failed",
        label=_("Failed deliveries"),
        rows=lambda day: Package.objects.filter(state=PackageState.FAILED),
        url_name="logistics:failed",
    ),
    # Direct deliveries by suppliers (LOG-3), and those to withdraw from them (LEAK-4).
    Queue(
        slug="direct",
        label=_("With suppliers for direct delivery"),
        rows=lambda day: DirectDelivery.objects.filter(state=DirectDeliveryState.ORDERED),
        url_name="logistics:direct_deliveries",
    ),
    Queue(
        slug="withdraw",
        label=_("Direct deliveries to withdraw"),
        rows=lambda day: DirectDelivery.objects.filter(
            state=DirectDeliveryState.WITHDRAWN, withdrawal_confirmed_at__isnull=True
        ),
        url_name="logistics:direct_deliveries",
    ),
    Queue(
        slug="proposals",
        label=_("Purchase proposals"),
        rows=lambda day: proposal_levels(),
        url_name="logistics:proposals",
    ),
]


@dataclass(frozen=True)
class QueueCount:
    queue: Queue
    count: int


def queue_get(slug: str) -> Queue | None:
    """The queue with a list page of order lines, by its slug (None for any other)."""
    return next((q for q in QUEUES if q.slug == slug and q.lines is not None), None)


def queue_counts(*, day: datetime.date, queues: list[Queue] | None = None) -> list[QueueCount]:
    """Every queue's count, in one query: ``SELECT (SELECT count(*) FROM (...)), ...``."""
    chosen = QUEUES if queues is None else queues
    if not chosen:
        return []
    parts: list[str] = []
    params: list[Any] = []
    for index, queue in enumerate(chosen):
        sql, sql_params = queue.rows(day).order_by().values("pk").query.sql_with_params()
        parts.append(f"(SELECT count(*) FROM ({sql}) AS queue_{index})")  # noqa: S608 - the ORM's own SQL, values as params
        params.extend(sql_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return [QueueCount(queue=q, count=int(n)) for q, n in zip(chosen, row, strict=True)]


def queue_lines(*, queue: Queue, day: datetime.date) -> QuerySet[CustomerOrderLine]:
    """The open lines of a queue, most pressing promise first, with what the list shows
    (order, article, unit) joined in: one query per page, whatever its length. Deliberately
    no patient: the list is for staff without grants."""
    assert queue.lines is not None
    return (
        open_lines()
        .filter(queue.lines(day))
        .select_related("order", "order__unit__unit", "article")
        .only(
            "position",
            "quantity",
            "state",
            "promised_on",
            "article__article_number",
            "article__name",
            "order__number",
            "order__kind",
            "order__urgent",
            "order__destination_kind",
            "order__unit__unit__name",
        )
        .order_by("promised_on", "order__number", "position")
    )
