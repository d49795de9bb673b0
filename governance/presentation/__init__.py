"""How the product writes things for people: one date/time format with its zone, one precision for
similarity scores, counts with their plurals. Templates reach these through the filters in
``governance.templatetags.presentation`` (a template builtin, so every page and PDF uses them
without a ``{% load %}``); Python that writes text for people (JSON polled by a page, messages)
calls the functions here, so a page and its live refresh never disagree.
"""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone

# Similarity scores and thresholds: one precision everywhere (0.600 beside 0.612, never 0.6 / 0.61234).
SCORE_PLACES = 3


def when_text(value: datetime | date | None, *, seconds: bool = False) -> str:
    """'1 Dec 2026, 18:32 GMT' in the site's zone (Europe/London: GMT or BST, stated)."""
    if value is None or value == "":
        return ""
    if not isinstance(value, datetime):
        return day_text(value)
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    else:
        value = timezone.make_aware(value)
    clock = "%H:%M:%S" if seconds else "%H:%M"
    return f"{value.day} {value:%b %Y}, {value.strftime(clock)} {value.tzname()}"


def day_text(value: datetime | date | None) -> str:
    """'1 Dec 2026' (a datetime is first put in the site's zone, so its day is the local day)."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return f"{value.day} {value:%b %Y}"


def score_text(value: float | None) -> str:
    if value is None or value == "":
        return ""
    return f"{float(value):.{SCORE_PLACES}f}"


def count_text(n: int, singular: str, plural: str | None = None) -> str:
    """'1 alert', '3 alerts', '1 day', '0 days'."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def _percent(value: float) -> str:
    """A proportion as a percentage with two significant figures (0.0077%, 1.2%, 17%): a rate of 7.7e-5 is never
    rounded to '0.01%', and its interval's ends stay distinguishable."""
    import math

    if value <= 0:
        return "0%"
    percent = 100 * value
    decimals = max(0, 1 - math.floor(math.log10(percent)))
    return f"{percent:.{decimals}f}%"


def rate_text(errors: int, trials: int, interval) -> str:
    """'639/8,276,346 = 0.0077% (95% Wilson interval 0.0071%–0.0083%)'; 'not measured' without trials."""
    if not trials:
        return "not measured"
    return (
        f"{errors:,}/{trials:,} = {_percent(errors / trials)} "
        f"(95% Wilson interval {_percent(interval[0])}–{_percent(interval[1])})"
    )
