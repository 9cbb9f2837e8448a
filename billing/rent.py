"""Rent arithmetic, without the database: which days of a month a device is on rent.

A device is on rent from the day it is delivered. The rent stops on the pickup line's
``rent_stops_on`` (the pickup registered plus three working days, computed by logistics with
its calendar of holidays), or on the day it is scrapped, whichever is first; the stop day itself
is not charged. When the device was missing at the pickup the rent restarts on
``rent_restarted_on`` and runs until the next stop."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class RentStop:
    stops_on: datetime.date
    # Set when the device was not there to collect: the rent runs again from this day.
    restarted_on: datetime.date | None = None


@dataclass(frozen=True)
class RentInterval:
    start: datetime.date
    # The first day not charged; None: still on rent.
    end: datetime.date | None

    def days_within(self, first: datetime.date, last: datetime.date) -> int:
        """Days charged between ``first`` and ``last`` inclusive."""
        start = max(self.start, first)
        stop = last + datetime.timedelta(days=1)
        if self.end is not None:
            stop = min(stop, self.end)
        return max((stop - start).days, 0)


def rent_intervals(
    *,
    delivered_on: datetime.date,
    stops: Iterable[RentStop],
    scrapped_on: datetime.date | None = None,
) -> list[RentInterval]:
    """The periods on rent, in order, from the delivery, the pickups and a scrapping."""
    intervals: list[RentInterval] = []
    start: datetime.date | None = delivered_on
    for stop in sorted(stops, key=lambda s: s.stops_on):
        if start is not None and stop.stops_on >= start:
            intervals.append(RentInterval(start, stop.stops_on))
            start = None
        if stop.restarted_on is not None and start is None:
            start = stop.restarted_on
    if start is not None:
        intervals.append(RentInterval(start, None))
    if scrapped_on is not None:
        intervals = [
            RentInterval(i.start, scrapped_on if i.end is None else min(i.end, scrapped_on))
            for i in intervals
            if i.start < scrapped_on
        ]
    return [i for i in intervals if i.end is None or i.end > i.start]
