"""The legal deadlines of a subject request, as pure functions (no database, no clock of their own).

The rules (UK GDPR Art. 12(3), Art. 12(5), Art. 15(3); DPA 2018 s.45(3), s.53, s.54; ICO guidance on
the right of access):

- **One calendar month** from the *relevant time*: the corresponding date of the next month
  (3 September → 3 October), or that month's last day where no corresponding date exists
  (31 March → 30 April; 31 January → 28/29 February) — ``one_calendar_month_after``.
- **The relevant time** (DPA 2018 s.54(3)): "the latest of (a) when the controller receives the
  request in question, (b) when the controller receives the information (if any) requested in
  connection with [confirming identity] ..., and (c) when the fee (if any) charged in connection
  with the request is paid". Identity and fee therefore **restart the month from the day they are
  received**; they are not pauses: received 30 January 2025, ID received 28 February → due Friday
  28 March 2025 — ``relevant_time``.
- **Clarification** (DPA 2018 s.54(3A)-(3C); for the UK GDPR, Art. 12A, both inserted by the Data
  (Use and Access) Act 2025): where the controller reasonably requires further information to identify
  what is asked for (an *access* request only), "the period beginning with the day on which the
  controller makes the request for further information and ending with the day on which the
  controller receives that information" does not count: both end days are excluded —
  ``clarification_excluded_days``. It is refused on other rights — ``wait_refusal``.
- **A fee** may be charged only where a request is manifestly unfounded or excessive (UK GDPR
  Art. 12(5)(a); DPA 2018 s.53(1)(a)) or for further copies of the data (UK GDPR Art. 15(3)) —
  ``fee_refusal``.
- A deadline that falls on a **weekend or a bank holiday** (England and Wales, from the ``holidays``
  package) moves to the **next working day** (ICO) — ``next_working_day``.
- While identity, a fee or a clarification is still awaited there is no deadline (``response_due``
  returns ``None``).
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

# What a controller may wait for, and how each affects the clock.
IDENTITY = "identity"
FEE = "fee"
CLARIFICATION = "clarification"
RESTARTS_THE_MONTH = (IDENTITY, FEE)  # s.54(3)(b), (c): the relevant time is when it is received
EXCLUDES_DAYS = (CLARIFICATION,)  # s.54(3C): the days from asking to answer, both included, do not count

# When a fee may be charged (the grounds the law lists).
FEE_MANIFESTLY_UNFOUNDED = "manifestly_unfounded"
FEE_MANIFESTLY_EXCESSIVE = "manifestly_excessive"
FEE_FURTHER_COPIES = "further_copies"
FEE_GROUNDS = {
    FEE_MANIFESTLY_UNFOUNDED: "The request is manifestly unfounded (UK GDPR Art. 12(5)(a); DPA 2018 s.53(1)(a))",
    FEE_MANIFESTLY_EXCESSIVE: "The request is manifestly excessive (UK GDPR Art. 12(5)(a); DPA 2018 s.53(1)(a))",
    FEE_FURTHER_COPIES: "Further copies of the data (UK GDPR Art. 15(3))",
}


@dataclass(frozen=True)
class ClockPause:
    """Something the controller asked the requester for: ``reason`` (identity, fee or
    clarification) asked on ``stopped_on``, received on ``restarted_on`` (``None`` while awaited)."""

    stopped_on: date
    restarted_on: date | None = None
    reason: str = CLARIFICATION

    def days(self) -> int | None:
        """Days that do not count: for a clarification, from asking to answer, both included
        (s.54(3C)); identity and a fee exclude no days, they move the start (s.54(3))."""
        if self.restarted_on is None:
            return None
        if self.reason in RESTARTS_THE_MONTH:
            return 0
        return max((self.restarted_on - self.stopped_on).days + 1, 0)


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


ExtensionRefusal = Refusal  # the name older callers use


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


def relevant_time(received_on: date, pauses: Iterable[ClockPause] = ()) -> date | None:
    """The day the month runs from (s.54(3)): the latest of receipt of the request, of the identity
    information asked for and of the fee charged; ``None`` while identity or a fee is still awaited."""
    start = received_on
    for pause in pauses:
        if pause.reason not in RESTARTS_THE_MONTH:
            continue
        if pause.restarted_on is None:
            return None
        start = max(start, pause.restarted_on)
    return start


def clarification_excluded_days(pauses: Iterable[ClockPause], *, counting_from: date) -> int | None:
    """Days that do not count (s.54(3C)): from the day clarification was asked for to the day it was
    received, both included, counted only from ``counting_from`` (the relevant time: days before a
    restart are already outside the month). ``None`` while a clarification is awaited."""
    total = 0
    for pause in pauses:
        if pause.reason not in EXCLUDES_DAYS:
            continue
        if pause.restarted_on is None:
            return None
        first = max(pause.stopped_on, counting_from)
        if pause.restarted_on >= first:
            total += (pause.restarted_on - first).days + 1
    return total


def clock_stopped_days(pauses: Iterable[ClockPause]) -> int | None:
    """Days that do not count over answered clarifications; ``None`` while anything is awaited."""
    pauses = list(pauses)
    if any(p.restarted_on is None for p in pauses):
        return None
    return sum(p.days() for p in pauses)


def response_due(received_on: date, pauses: Iterable[ClockPause] = (), *, extension_months: int = 0) -> date | None:
    """The day the response is due: one calendar month (plus any extension) from the relevant time
    (s.54(3)), plus the days a clarification excluded (s.54(3C)), moved to the next working day.
    ``None`` while identity, a fee or a clarification is awaited."""
    pauses = list(pauses)
    start = relevant_time(received_on, pauses)
    if start is None:
        return None
    excluded = clarification_excluded_days(pauses, counting_from=start)
    if excluded is None:
        return None
    return next_working_day(months_after(start, 1 + extension_months) + timedelta(days=excluded))


def first_month_ends(received_on: date, pauses: Iterable[ClockPause] = ()) -> date | None:
    """The end of the first month (when an extension must have been told to the requester)."""
    return response_due(received_on, pauses)


def wait_refusal(*, right: str, reason: str) -> Refusal | None:
    """Why the controller may not stop the clock for ``reason`` on a request for ``right``.

    s.54(3A): clarification applies where "the controller reasonably requires further information
    in order to identify the information or processing activities to which a request under
    section 45(1) relates" — a request for *access* (s.45; UK GDPR Art. 15) only. Identity (s.52(4);
    Art. 12(6)) and a fee may be awaited on any request."""
    if reason not in (IDENTITY, FEE, CLARIFICATION):
        return Refusal("pause_reason_required", "Say what is awaited: identity, a fee or clarification.")
    if reason == CLARIFICATION and right != "access":
        return Refusal(
            "clarification_access_only",
            "Clarification stops the clock only on an access request (DPA 2018 s.54(3A); UK GDPR Art. 12A).",
        )
    return None


def fee_refusal(*, right: str, regime: str, ground: str) -> Refusal | None:
    """Why a fee may not be charged on ``ground`` (``None``: it may).

    UK GDPR Art. 12(5): information is provided free of charge; where requests are "manifestly
    unfounded or excessive" the controller may "charge a reasonable fee". Art. 15(3): "for any
    further copies requested by the data subject, the controller may charge a reasonable fee".
    DPA 2018 s.53(1): the same for manifestly unfounded or excessive Part 3 requests."""
    if ground not in FEE_GROUNDS:
        return Refusal(
            "fee_ground_required",
            "A fee may be charged only for a manifestly unfounded or excessive request, or for further copies.",
        )
    if ground == FEE_FURTHER_COPIES and (right != "access" or regime != "uk_gdpr"):
        return Refusal(
            "fee_ground_invalid", "A fee for further copies applies to a UK GDPR access request only (Art. 15(3))."
        )
    return None


def extension_refusal(
    *,
    received_on: date,
    pauses: Iterable[ClockPause] = (),
    months: int,
    reason: str,
    requester_told_on: date | None,
) -> Refusal | None:
    """Why an extension of ``months`` may not be granted (``None``: it may)."""
    pauses = list(pauses)
    if not 1 <= months <= MAX_EXTENSION_MONTHS:
        return Refusal(
            "extension_too_long", f"An extension is of one or two further months (Art. 12(3)), not {months}."
        )
    if not (reason or "").strip():
        return Refusal(
            "extension_reason_required", "Say why the request is complex or numerous: the extension needs a reason."
        )
    if requester_told_on is None:
        return Refusal(
            "extension_not_notified",
            "Record when the requester was told of the extension and its reasons (within the first month).",
        )
    first_month = first_month_ends(received_on, pauses)
    if first_month is None:
        return Refusal("clock_stopped", "The clock is stopped; restart it before extending the deadline.")
    if requester_told_on < received_on:
        return Refusal("extension_notified_before_receipt", "The requester cannot be told before receipt.")
    if requester_told_on > first_month:
        return Refusal(
            "extension_not_notified_in_time",
            f"The requester was told on {requester_told_on:%d %B %Y}, after the first month ended on "
            f"{first_month:%d %B %Y}: the deadline can no longer be extended.",
        )
    return None


def days_remaining(due_on: date | None, today: date) -> int | None:
    """Calendar days until the deadline (negative once overdue); ``None`` while the clock is stopped."""
    return None if due_on is None else (due_on - today).days
