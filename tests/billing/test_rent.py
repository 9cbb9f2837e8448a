"""Rent arithmetic (issue 12): per device and calendar day from the delivery until the rent
stop, around month ends, holidays (the stop is three working days after the pickup is
registered), missing devices (the rent restarts) and scrapping."""

from __future__ import annotations

import datetime

from billing.months import month_end, months_add
from billing.rent import RentInterval, RentStop, rent_intervals
from logistics.calendar import working_days_after

D = datetime.date


def days(intervals: list[RentInterval], month: datetime.date) -> int:
    return sum(i.days_within(month, month_end(month)) for i in intervals)


def test_rent_runs_from_the_delivery_day_to_the_end_of_each_month():
    intervals = rent_intervals(delivered_on=D(2026, 1, 31), stops=[])
    assert days(intervals, D(2026, 1, 1)) == 1
    assert days(intervals, D(2026, 2, 1)) == 28
    assert days(intervals, D(2028, 2, 1)) == 29  # a leap year
    assert days(intervals, D(2025, 12, 1)) == 0


def test_rent_stops_on_the_stop_day_which_is_not_charged_across_a_month_end():
    intervals = rent_intervals(delivered_on=D(2026, 1, 15), stops=[RentStop(D(2026, 2, 1))])
    assert days(intervals, D(2026, 1, 1)) == 17  # 15..31 January
    assert days(intervals, D(2026, 2, 1)) == 0


def test_rent_stop_after_a_pickup_registered_before_christmas_waits_for_working_days():
    # Registered on Wednesday 23 December: Christmas Eve, Christmas Day, Boxing Day and the
    # weekend are not working days, so the third working day is Wednesday 30 December.
    stop = working_days_after(D(2026, 12, 23), 3)
    assert stop == D(2026, 12, 30)
    intervals = rent_intervals(delivered_on=D(2026, 12, 1), stops=[RentStop(stop)])
    assert days(intervals, D(2026, 12, 1)) == 29


def test_rent_restarts_when_the_device_was_missing_at_the_pickup():
    intervals = rent_intervals(
        delivered_on=D(2026, 3, 1),
        stops=[RentStop(D(2026, 3, 10), restarted_on=D(2026, 3, 10)), RentStop(D(2026, 4, 5))],
    )
    # Missing: the rent goes on without a gap until the second pickup's stop.
    assert days(intervals, D(2026, 3, 1)) == 31
    assert days(intervals, D(2026, 4, 1)) == 4


def test_rent_ends_when_the_device_is_scrapped():
    intervals = rent_intervals(delivered_on=D(2026, 5, 20), stops=[], scrapped_on=D(2026, 6, 11))
    assert days(intervals, D(2026, 5, 1)) == 12
    assert days(intervals, D(2026, 6, 1)) == 10
    assert days(intervals, D(2026, 7, 1)) == 0


def test_a_scrapping_before_the_stop_wins_and_a_stop_before_the_delivery_is_ignored():
    intervals = rent_intervals(
        delivered_on=D(2026, 5, 1),
        stops=[RentStop(D(2026, 5, 20))],
        scrapped_on=D(2026, 5, 10),
    )
    assert days(intervals, D(2026, 5, 1)) == 9


def test_region_6_six_months_after_a_month_end_delivery_is_clamped_to_the_month():
    assert months_add(D(2026, 8, 31), 6) == D(2027, 2, 28)
    assert months_add(D(2026, 8, 31), -6) == D(2026, 2, 28)
    assert months_add(D(2026, 1, 15), 4) == D(2026, 5, 15)
