"""Reads of safety notices and their campaigns (DEVICE-2, DEVICE-5).

The campaign page's figures are the notice's own row and its weeks (kept by the database as the
outreach rows move), whatever the number of devices; its list of devices is read a page at a
time. Staff read a patient's device as "a patient, through the prescriber" with the order
number only (LEAK-5): this module reads no patient's name. The prescriber's list of their
patients holding notice articles gives the patient ids; the view names them through the gate's
labels (``protection.labels.patient_labels_for_user``), which logs every row (AUDIT-1).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Final

from django.db.models import Count, QuerySet
from django.utils import timezone

from logistics.models import (
    DeviceStatus,
    HolderKind,
    NoticeDevice,
    NoticeState,
    NoticeWeek,
    OutreachState,
    SafetyNotice,
)

PAGE_SIZE: Final = 25
BOARD_SIZE: Final = 5


def notice_blocking(device_id: int) -> str | None:
    """The number of a published notice that blocks this device from delivery, if any."""
    return (
        NoticeDevice.objects.filter(device_id=device_id, blocked=True)
        .values_list("notice__number", flat=True)
        .first()
    )


def blocked_in_stores(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """How many devices a notice blocks in each (store, article) of ``pairs``: one query."""
    if not pairs:
        return {}
    stores = {store for store, _article in pairs}
    articles = {article for _store, article in pairs}
    counted = (
        NoticeDevice.objects.filter(
            blocked=True,
            device__status=DeviceStatus.IN_STOCK,
            device__location_id__in=stores,
            device__article_id__in=articles,
        )
        .values("device__location_id", "device__article_id")
        .annotate(n=Count("device_id", distinct=True))
    )
    return {(row["device__location_id"], row["device__article_id"]): row["n"] for row in counted}


def notices_list() -> QuerySet[SafetyNotice]:
    return SafetyNotice.objects.order_by("-created_at", "-pk")


def notices_on_board(*, with_articles: bool = True) -> list[SafetyNotice]:
    """The message board's notices: the published ones, the latest first (the start page's
    panel the latest few, without their articles)."""
    published = SafetyNotice.objects.filter(state=NoticeState.PUBLISHED).order_by(
        "-published_at", "-pk"
    )
    if not with_articles:
        return list(published[:BOARD_SIZE])
    return list(published.prefetch_related("articles__article"))


@dataclass(frozen=True)
class WeekReach:
    week: datetime.date
    contacted: int
    done: int
    contacted_total: int
    done_total: int
    found: int

    @property
    def contacted_percent(self) -> int:
        return round(100 * self.contacted_total / self.found) if self.found else 0

    @property
    def done_percent(self) -> int:
        return round(100 * self.done_total / self.found) if self.found else 0


@dataclass(frozen=True)
class Campaign:
    found: int
    contacted: int
    done: int
    patients: int
    protected: int
    units: int
    stores: int
    blocked: int
    weeks: list[WeekReach]

    @property
    def contacted_percent(self) -> int:
        return round(100 * self.contacted / self.found) if self.found else 0

    @property
    def done_percent(self) -> int:
        return round(100 * self.done / self.found) if self.found else 0


def campaign_for(notice: SafetyNotice) -> Campaign:
    """The reach of a notice's campaign: its totals (kept on the notice's row), and per week
    (Monday) from publishing until it closed (or today) how many were contacted and done that
    week and so far (``NoticeWeek``). Two queries whatever the number of devices."""
    weeks: list[WeekReach] = []
    if notice.published_at is not None:
        counted = {
            week.week: (week.contacted, week.done)
            for week in NoticeWeek.objects.filter(notice_id=notice.pk)
        }
        weeks = _weeks(notice, counted, notice.found)
    return Campaign(
        found=notice.found,
        contacted=notice.contacted,
        done=notice.done,
        patients=notice.patients,
        protected=notice.protected_holders,
        units=notice.units,
        stores=notice.stores,
        blocked=NoticeDevice.objects.filter(notice_id=notice.pk, blocked=True).count(),
        weeks=weeks,
    )


def _weeks(
    notice: SafetyNotice, counted: dict[datetime.date, tuple[int, int]], found: int
) -> list[WeekReach]:
    assert notice.published_at is not None
    start = timezone.localdate(notice.published_at)
    end = timezone.localdate(notice.closed_at) if notice.closed_at else timezone.localdate()
    week = start - datetime.timedelta(days=start.weekday())
    rows = []
    contacted_total = done_total = 0
    while week <= end:
        contacted, done = counted.get(week, (0, 0))
        contacted_total += contacted
        done_total += done
        rows.append(
            WeekReach(
                week=week,
                contacted=contacted,
                done=done,
                contacted_total=contacted_total,
                done_total=done_total,
                found=found,
            )
        )
        week += datetime.timedelta(days=7)
    return rows


@dataclass(frozen=True)
class DevicePage:
    rows: list[NoticeDevice]
    page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _page(query: QuerySet[NoticeDevice], page: int) -> DevicePage:
    page = max(page, 1)
    start = (page - 1) * PAGE_SIZE
    found = list(query[start : start + PAGE_SIZE + 1])
    return DevicePage(rows=found[:PAGE_SIZE], page=page, has_next=len(found) > PAGE_SIZE)


def campaign_devices(*, notice: SafetyNotice, state: str = "", page: int = 1) -> DevicePage:
    """A page of the notice's devices (of one outreach state, or all): one query. A patient
    is read as the order number and the prescriber, never by name (LEAK-5)."""
    rows = NoticeDevice.objects.filter(notice_id=notice.pk).select_related(
        "device__article", "holder_unit", "location", "prescriber", "contact_unit"
    )
    if state in OutreachState.values:
        rows = rows.filter(state=state)
    return _page(rows.order_by("pk"), page)


def prescriber_notice_rows(*, user: Any, page: int = 1) -> DevicePage:
    """The devices under published notices held by patients this prescriber lent them to (the
    prescriber of the order each went out on): one query. The patients are named by the view
    through the gate's labels."""
    rows = (
        NoticeDevice.objects.filter(
            prescriber_id=user.pk,
            holder_kind=HolderKind.PATIENT,
            notice__state=NoticeState.PUBLISHED,
        )
        .select_related("notice", "device__article")
        .order_by("-notice__published_at", "notice_id", "order_number", "pk")
    )
    return _page(rows, page)


def prescriber_notice_count(user: Any) -> int:
    """For the start page: how many of this prescriber's patients' devices are under published
    notices and not yet done. One query (the prescriber's partial index)."""
    return (
        NoticeDevice.objects.filter(
            prescriber_id=user.pk,
            holder_kind=HolderKind.PATIENT,
            notice__state=NoticeState.PUBLISHED,
        )
        .exclude(state=OutreachState.DONE)
        .count()
    )
