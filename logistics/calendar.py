"""The region's working-day calendar: Monday to Friday, except Swedish public holidays and the
eves that are days off (midsommarafton, julafton, nyårsafton: the ``holidays`` package's bank
category). Delivery promises (7 and 17 days, urgent within 24 hours), route days and KPI-1
count working days on it."""

from __future__ import annotations

import datetime
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _days_off(year: int) -> frozenset[datetime.date]:
    public = holidays.country_holidays("SE", years=year, language="en_US")
    # The bank category holds the eves that are days off and the half days before some
    # holidays ("from 2pm"), which are working days for deliveries.
    eves = holidays.country_holidays("SE", years=year, categories=("bank",), language="en_US")
    return frozenset(public) | frozenset(
        day for day, name in eves.items() if "from 2pm" not in name
    )


def is_working_day(day: datetime.date) -> bool:
    return day.weekday() < 5 and day not in _days_off(day.year)


def working_days_after(day: datetime.date, count: int) -> datetime.date:
    """The working day ``count`` working days after ``day`` (``day`` itself not counted)."""
    current = day
    left = count
    while left > 0:
        current += datetime.timedelta(days=1)
        if is_working_day(current):
            left -= 1
    return current


def next_working_day(day: datetime.date) -> datetime.date:
    """``day`` itself when it is a working day, else the next one."""
    current = day
    while not is_working_day(current):
        current += datetime.timedelta(days=1)
    return current


def working_days_between(start: datetime.date, end: datetime.date) -> int:
    """How many working days after ``start`` up to and including ``end`` (0 when end <= start)."""
    count = 0
    current = start
    while current < end:
        current += datetime.timedelta(days=1)
        if is_working_day(current):
            count += 1
    return count
