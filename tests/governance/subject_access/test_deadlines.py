"""The legal deadline arithmetic (``governance.subject_access.deadlines``): pure functions, so each
case is a date in and a date out, checked against the calendar (bank holidays from ``holidays``)."""

from __future__ import annotations

from datetime import date

import pytest

from governance.subject_access.deadlines import (
    CLARIFICATION,
    FEE,
    IDENTITY,
    ClockPause,
    bank_holiday_name,
    clarification_excluded_days,
    clock_stopped_days,
    days_remaining,
    extension_refusal,
    fee_refusal,
    is_working_day,
    next_working_day,
    one_calendar_month_after,
    relevant_time,
    response_due,
    wait_refusal,
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


def test_identity_restarts_the_month_from_the_day_it_is_received():
    """DPA 2018 s.54(3): the relevant time is "the latest of (a) when the controller receives the
    request ..., (b) when the controller receives the information (if any) requested in connection
    with a request under section 52(4)" — the month starts again, it is not a pause."""
    # Received 30 January 2025, ID received 28 February -> 28 March 2025, a Friday (not Monday 31 March).
    asked_at_receipt = [ClockPause(date(2025, 1, 30), date(2025, 2, 28), IDENTITY)]
    assert relevant_time(date(2025, 1, 30), asked_at_receipt) == date(2025, 2, 28)
    assert response_due(date(2025, 1, 30), asked_at_receipt) == date(2025, 3, 28)
    assert date(2025, 3, 28).weekday() == 4
    # Received 1 September 2025, ID asked 10 September, received 20 September -> Monday 20 October
    # (the days before the ID was asked for do not carry over).
    asked_later = [ClockPause(date(2025, 9, 10), date(2025, 9, 20), IDENTITY)]
    assert response_due(date(2025, 9, 1), asked_later) == date(2025, 10, 20)
    assert date(2025, 10, 20).weekday() == 0
    # While it is awaited there is no deadline.
    assert response_due(date(2025, 9, 1), [ClockPause(date(2025, 9, 10), None, IDENTITY)]) is None
    assert days_remaining(None, date(2025, 9, 20)) is None


def test_a_fee_restarts_the_month_from_the_day_it_is_paid():
    """DPA 2018 s.54(3)(c): the relevant time includes "when the fee (if any) charged in connection
    with the request is paid"."""
    # Received 3 September 2025, fee asked 5 September, paid 16 September -> Thursday 16 October.
    paid = [ClockPause(date(2025, 9, 5), date(2025, 9, 16), FEE)]
    assert response_due(date(2025, 9, 3), paid) == date(2025, 10, 16)
    # Identity and a fee: the latest receipt counts (ID 12 September, fee 16 September).
    both = [ClockPause(date(2025, 9, 3), date(2025, 9, 12), IDENTITY), *paid]
    assert relevant_time(date(2025, 9, 3), both) == date(2025, 9, 16)
    assert response_due(date(2025, 9, 3), both) == date(2025, 10, 16)
    assert response_due(date(2025, 9, 3), [ClockPause(date(2025, 9, 5), None, FEE)]) is None


def test_a_fee_only_on_the_grounds_the_law_lists():
    """UK GDPR Art. 12(5): a reasonable fee where requests are "manifestly unfounded or excessive";
    Art. 15(3): "for any further copies requested"; DPA 2018 s.53(1): manifestly unfounded or
    excessive Part 3 requests."""
    assert fee_refusal(right="access", regime="uk_gdpr", ground="manifestly_excessive") is None
    assert fee_refusal(right="erasure", regime="dpa_part3", ground="manifestly_unfounded") is None
    assert fee_refusal(right="access", regime="uk_gdpr", ground="further_copies") is None
    assert fee_refusal(right="access", regime="uk_gdpr", ground="").code == "fee_ground_required"
    assert fee_refusal(right="access", regime="uk_gdpr", ground="admin costs").code == "fee_ground_required"
    # Further copies: Art. 15(3) is a UK GDPR access provision, not a Part 3 one.
    assert fee_refusal(right="access", regime="dpa_part3", ground="further_copies").code == "fee_ground_invalid"
    assert fee_refusal(right="erasure", regime="uk_gdpr", ground="further_copies").code == "fee_ground_invalid"


def test_clarification_excludes_the_day_of_asking_and_the_day_of_the_answer():
    """DPA 2018 s.54(3C): "the period beginning with the day on which the controller makes the
    request for further information and ending with the day on which the controller receives that
    information" does not count — both end days are excluded."""
    # Received 1 September 2025; clarification asked 10 September, answered 20 September: 11 days
    # (10th to 20th inclusive) -> 1 October + 11 = Sunday 12 October -> Monday 13 October.
    asked = [ClockPause(date(2025, 9, 10), date(2025, 9, 20), CLARIFICATION)]
    assert clarification_excluded_days(asked, counting_from=date(2025, 9, 1)) == 11
    assert clock_stopped_days(asked) == 11
    assert response_due(date(2025, 9, 1), asked) == date(2025, 10, 13)
    # Received 3 September 2026; asked Tuesday 8, answered Wednesday 9 September: 2 days ->
    # 3 October + 2 = Monday 5 October. Asked and answered the same day still excludes one day.
    assert response_due(date(2026, 9, 3), [ClockPause(date(2026, 9, 8), date(2026, 9, 9))]) == date(2026, 10, 5)
    assert clock_stopped_days([ClockPause(date(2026, 9, 8), date(2026, 9, 8))]) == 1
    # Received 7 January 2026 (due Saturday 7 Feb -> Monday 9); asked 12, answered 14 January:
    # 3 days -> Tuesday 10 February (a pause counted exclusively would give Monday 9).
    three = [ClockPause(date(2026, 1, 12), date(2026, 1, 14), CLARIFICATION)]
    assert response_due(date(2026, 1, 7)) == date(2026, 2, 9)
    assert response_due(date(2026, 1, 7), three) == date(2026, 2, 10)
    # Awaited: no deadline.
    assert response_due(date(2026, 1, 7), [ClockPause(date(2026, 1, 12), None, CLARIFICATION)]) is None


def test_clarification_is_for_access_requests_only():
    """DPA 2018 s.54(3A): clarification applies where the controller "reasonably requires further
    information in order to identify the information or processing activities to which a request
    under section 45(1) relates" — a request for access."""
    assert wait_refusal(right="access", reason=CLARIFICATION) is None
    for right in ("rectification", "erasure", "restriction", "objection"):
        assert wait_refusal(right=right, reason=CLARIFICATION).code == "clarification_access_only"
        assert wait_refusal(right=right, reason=IDENTITY) is None
        assert wait_refusal(right=right, reason=FEE) is None
    assert wait_refusal(right="access", reason="holiday").code == "pause_reason_required"


def test_ico_worked_examples_of_the_month():
    """ICO, right of access: "a request received on 3 September should be responded to by
    3 October"; "if the corresponding date falls on a weekend or a public holiday, you have until
    the next working day"; received 31 March → 30 April (no 31 April)."""
    assert one_calendar_month_after(date(2025, 9, 3)) == date(2025, 10, 3)
    assert response_due(date(2025, 9, 3)) == date(2025, 10, 3)  # a Friday
    assert response_due(date(2025, 3, 31)) == date(2025, 4, 30)  # a Wednesday
    # 3 May 2025 is a Saturday and 5 May the early May bank holiday: received 3 April -> Tuesday 6 May.
    assert bank_holiday_name(date(2025, 5, 5))
    assert response_due(date(2025, 4, 3)) == date(2025, 5, 6)


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
    # A clarification pushes the first month's end on: told on 8 October is in time after 8 days excluded.
    paused = [ClockPause(date(2026, 9, 10), date(2026, 9, 17), CLARIFICATION)]
    assert (
        extension_refusal(
            received_on=received, pauses=paused, months=2, reason="Many items.", requester_told_on=date(2026, 10, 8)
        )
        is None
    )
