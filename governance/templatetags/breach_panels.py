"""The dashboard's breach panel: the 72-hour clock of every breach not yet settled with the Commissioner."""

from __future__ import annotations

from django import template

register = template.Library()


@register.inclusion_tag("breaches/clock_panel.html", takes_context=True)
def breach_clock_panel(context):
    from governance.breaches.access import breaches_visible_to
    from governance.breaches.rules import breach_commissioner_clock

    user = context["request"].user
    rows = []
    for breach in breaches_visible_to(user).filter(
        commissioner_notified_at__isnull=True, commissioner_not_notified_reason=""
    )[:50]:
        clock = breach_commissioner_clock(breach)
        if clock.chase:
            rows.append((breach, clock))
    return {"show": user.has_perm("governance.view_breach"), "rows": rows}
