"""The legal deadlines of a subject request, as pure functions (no database, no clock of their own).

The rules (UK GDPR Art. 12(3); DPA 2018 s.45(3)/s.54; ICO guidance on the right of access):

- **One calendar month** from the day the request is received: the corresponding date of the next
  month (3 September → 3 October), or that month's last day where no corresponding date exists
  (31 January → 28/29 February) — ``one_calendar_month_after``.
- A deadline that falls on a **weekend or a bank holiday** (England and Wales, from the ``holidays``
  package) moves to the **next working day** — ``next_working_day``.
- **The clock stops** while the controller waits for proof of identity or for clarification, and
  restarts when it arrives: every day the clock stood still is added back — ``clock_stopped_days``.
  While a pause is still open there is no deadline (``response_due`` returns ``None``).
- An **extension** of up to two further months (complex or numerous requests) needs a reason, and
  the requester must be told, with the reasons, within the first month — ``extension_refusal``
  says why one may not be granted (a coded error), else ``None``.
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

MAX_EXTENSION_MONTHS = 2


@dataclass(frozen=True)
class ClockPause:
    """The clock stood still from ``stopped_on`` (identity or clarification asked for) until
    ``restarted_on`` (it arrived); ``restarted_on`` is ``None`` while still waiting."""

    stopped_on: date
    restarted_on: date | None = None

    def days(self) -> int | None:
        return None if self.restarted_on is None else max((self.restarted_on - self.stopped_on).days, 0)


def months_after(day: date, months: int) -> date:
    """The corresponding date ``months`` later, or that month's last day where it has none."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def one_calendar_month_after(day: date) -> date:
    return months_after(day, 1)


@functools.lru_cache(maxsize=64)
def _bank_holidays(year: int):
    import holidays

    return holidays.country_holidays("GB", subdiv="ENG", years=year)


def bank_holiday_name(day: date) -> str | None:
    """The England and Wales bank holiday on ``day`` (substitute days included), else ``None``."""
    return _bank_holidays(day.year).get(day)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and bank_holiday_name(day) is None


def next_working_day(day: date) -> date:
    """``day`` itself when it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def clock_stopped_days(pauses: Iterable[ClockPause]) -> int | None:
    """Days the clock stood still over closed pauses; ``None`` while one is still open."""
    total = 0
    for pause in pauses:
        days = pause.days()
        if days is None:
            return None
        total += days
    return total


def response_due(received_on: date, pauses: Iterable[ClockPause] = (), *, extension_months: int = 0) -> date | None:
    """The day the response is due: one calendar month (plus any extension) from receipt, plus the
    days the clock stood still, moved to the next working day. ``None`` while the clock is stopped."""
    stopped = clock_stopped_days(pauses)
    if stopped is None:
        return None
    return next_working_day(months_after(received_on, 1 + extension_months) + timedelta(days=stopped))


def first_month_ends(received_on: date, pauses: Iterable[ClockPause] = ()) -> date | None:
    """The end of the first month (when an extension must have been told to the requester)."""
    return response_due(received_on, pauses)


@dataclass(frozen=True)
class ExtensionRefusal:
    code: str
    message: str


def extension_refusal(
    *,
    received_on: date,
    pauses: Iterable[ClockPause] = (),
    months: int,
    reason: str,
    requester_told_on: date | None,
) -> ExtensionRefusal | None:
    """Why an extension of ``months`` may not be granted (``None``: it may)."""
    pauses = list(pauses)
    if not 1 <= months <= MAX_EXTENSION_MONTHS:
        return ExtensionRefusal(
            "extension_too_long", f"An extension is of one or two further months (Art. 12(3)), not {months}."
        )
    if not (reason or "").strip():
        return ExtensionRefusal(
            "extension_reason_required", "Say why the request is complex or numerous: the extension needs a reason."
        )
    if requester_told_on is None:
        return ExtensionRefusal(
            "extension_not_notified",
            "Record when the requester was told of the extension and its reasons (within the first month).",
        )
    first_month = first_month_ends(received_on, pauses)
    if first_month is None:
        return ExtensionRefusal("clock_stopped", "The clock is stopped; restart it before extending the deadline.")
    if requester_told_on < received_on:
        return ExtensionRefusal("extension_notified_before_receipt", "The requester cannot be told before receipt.")
    if requester_told_on > first_month:
        return ExtensionRefusal(
            "extension_not_notified_in_time",
            f"The requester was told on {requester_told_on:%d %B %Y}, after the first month ended on "
            f"{first_month:%d %B %Y}: the deadline can no longer be extended.",
        )
    return None


def days_remaining(due_on: date | None, today: date) -> int | None:
    """Calendar days until the deadline (negative once overdue); ``None`` while the clock is stopped."""
    return None if due_on is None else (due_on - today).days
