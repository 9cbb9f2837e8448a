"""Calendar arithmetic of the billing month."""

from __future__ import annotations

import datetime
import re

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def month_parse(value: str) -> datetime.date:
    """``YYYY-MM`` to the month's first day; ValueError naming the expected form."""
    match = _MONTH.match(value.strip())
    if match is None:
        raise ValueError(f"month {value!r}: expected YYYY-MM, for example 2026-11")
    return datetime.date(int(match.group(1)), int(match.group(2)), 1)


def month_end(month: datetime.date) -> datetime.date:
    """The last day of the month ``month`` begins."""
    return month_next(month) - datetime.timedelta(days=1)


def month_next(month: datetime.date) -> datetime.date:
    return datetime.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_add(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later, clamped to the month's end (31 Aug + 6 = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    first = datetime.date(index // 12, index % 12 + 1, 1)
    return first.replace(day=min(day.day, month_end(first).day))
