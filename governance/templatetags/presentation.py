"""Template filters for the one way the product writes dates, scores and counts
(``governance.presentation``). A builtin (``TEMPLATES`` options): no ``{% load %}`` needed.

    {{ alert.first_seen_at|when }}            1 Dec 2026, 18:32 GMT
    {{ alert.first_seen_at|when:"seconds" }}  1 Dec 2026, 18:32:05 GMT
    {{ agreement.ends_on|day }}               1 Dec 2026
    {{ alert.score|score }}                   0.812
    {{ n|counted:"alert" }}                   3 alerts   ({{ n|counted:"policy,policies" }})
"""

from __future__ import annotations

from django import template

from governance import presentation

register = template.Library()


@register.filter
def when(value, arg: str = ""):
    return presentation.when_text(value, seconds=arg == "seconds")


@register.filter
def day(value):
    return presentation.day_text(value)


@register.filter
def score(value):
    return presentation.score_text(value)


@register.filter
def counted(value, arg: str):
    singular, _, plural = arg.partition(",")
    try:
        n = int(value)
    except (TypeError, ValueError):
        return value
    return presentation.count_text(n, singular, plural or None)
