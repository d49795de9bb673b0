"""The legal deadline arithmetic (``governance.subject_access.deadlines``): pure functions, so each
case is a date in and a date out, checked against the calendar (bank holidays from ``holidays``)."""

from __future__ import annotations

from datetime import date

import pytest

from governance.subject_access.deadlines import (
    ClockPause,
    bank_holiday_name,
    clock_stopped_days,
    days_remaining,
    extension_refusal,
    is_working_day,
    next_working_day,
    one_calendar_month_after,
    response_due,
)


@pytest.mark.parametrize(
    ("received", "corresponding"),
    [
        (date(2026, 9, 3), date(2026, 10, 3)),  # the ICO's own example: 3 September -> 3 October
        (date(2025, 1, 31), date(2025, 2, 28)),  # no 31 February: the month's last day
        (date(2028, 1, 31), date(2028, 2, 29)),  # leap year
        (date(2028, 1, 29), date(2028, 2, 29)),
        (date(2027, 1, 29), date(2027, 2, 28)),  # not a leap year: 29 January -> 28 February
        (date(2026, 3, 31), date(2026, 4, 30)),
        (date(2026, 12, 15), date(2027, 1, 15)),  # over the year end
    ],
)
def test_one_calendar_month_is_the_corresponding_date_or_the_last_day(received, corresponding):
    assert one_calendar_month_after(received) == corresponding


def test_a_deadline_on_a_weekend_moves_to_the_monday():
    # 5 September 2026 is a Saturday: received 5 August -> due Monday 7 September.
    assert date(2026, 9, 5).weekday() == 5
    assert response_due(date(2026, 8, 5)) == date(2026, 9, 7)


def test_a_deadline_on_a_bank_holiday_moves_to_the_next_working_day():
    # Received 31 July 2026 -> 31 August 2026, the late summer bank holiday -> Tuesday 1 September.
    assert bank_holiday_name(date(2026, 8, 31))
    assert response_due(date(2026, 7, 31)) == date(2026, 9, 1)
    # Christmas 2026 falls on a Friday, Boxing Day on Saturday (substitute Monday 28th): 25 Nov -> 29 Dec.
    assert response_due(date(2026, 11, 25)) == date(2026, 12, 29)
    # Easter 2026: Good Friday 3 April, Easter Monday 6 April -> received 3 March, due Tuesday 7 April.
    assert response_due(date(2026, 3, 3)) == date(2026, 4, 3 + 4)


def test_working_days():
    assert is_working_day(date(2026, 12, 1))
    assert not is_working_day(date(2026, 12, 25))
    assert not is_working_day(date(2026, 12, 28))  # Boxing Day (substitute)
    assert next_working_day(date(2026, 12, 24)) == date(2026, 12, 24)
    assert next_working_day(date(2026, 12, 25)) == date(2026, 12, 29)


def test_31_january_in_a_leap_year_and_not():
    # 2028: 29 February is a Tuesday; 2027: 28 February is a Sunday -> Monday 1 March.
    assert response_due(date(2028, 1, 31)) == date(2028, 2, 29)
    assert response_due(date(2027, 1, 31)) == date(2027, 3, 1)


def test_the_clock_stops_while_waiting_and_restarts_on_receipt():
    received = date(2026, 9, 3)
    assert response_due(received) == date(2026, 10, 5)  # 3 October is a Saturday
    waiting = [ClockPause(date(2026, 9, 10))]
    assert response_due(received, waiting) is None  # no deadline while the clock stands still
    assert days_remaining(None, date(2026, 9, 20)) is None
    restarted = [ClockPause(date(2026, 9, 10), date(2026, 9, 17))]  # 7 days stopped
    assert clock_stopped_days(restarted) == 7
    assert response_due(received, restarted) == date(2026, 10, 12)  # 3 Oct + 7 = Saturday 10 Oct -> Monday 12
    two = [ClockPause(date(2026, 9, 3), date(2026, 9, 5)), ClockPause(date(2026, 9, 10), date(2026, 9, 17))]
    assert response_due(received, two) == date(2026, 10, 12)  # 3 Oct + 9 = Monday 12 October


def test_an_extension_adds_two_further_months_from_receipt():
    assert response_due(date(2026, 1, 31), extension_months=2) == date(2026, 4, 30)
    assert response_due(date(2026, 9, 3), extension_months=2) == date(2026, 12, 3)


def test_an_extension_needs_a_reason_and_a_timely_notice():
    received = date(2026, 9, 3)
    ok = extension_refusal(
        received_on=received, months=2, reason="Footage from four deployments.", requester_told_on=date(2026, 9, 20)
    )
    assert ok is None
    late = extension_refusal(
        received_on=received, months=2, reason="Footage from four deployments.", requester_told_on=date(2026, 10, 6)
    )
    assert late.code == "extension_not_notified_in_time"
    # The last day of the first month (moved to Monday 5 October) is still in time.
    assert (
        extension_refusal(received_on=received, months=1, reason="Many items.", requester_told_on=date(2026, 10, 5))
        is None
    )
    assert extension_refusal(received_on=received, months=2, reason="", requester_told_on=date(2026, 9, 4)).code == (
        "extension_reason_required"
    )
    assert extension_refusal(received_on=received, months=3, reason="x", requester_told_on=date(2026, 9, 4)).code == (
        "extension_too_long"
    )
    assert extension_refusal(received_on=received, months=2, reason="x", requester_told_on=None).code == (
        "extension_not_notified"
    )
    # A stopped clock pushes the first month's end on: told on 8 October is in time after 7 days stopped.
    paused = [ClockPause(date(2026, 9, 10), date(2026, 9, 17))]
    assert (
        extension_refusal(
            received_on=received, pauses=paused, months=2, reason="Many items.", requester_told_on=date(2026, 10, 8)
        )
        is None
    )
