"""The dashboard's breach panel: the 72-hour clock of every breach not yet settled with the Commissioner, and
the agreement's clock for every party to the sharing not yet told."""

from __future__ import annotations

from django import template

register = template.Library()


@register.inclusion_tag("breaches/clock_panel.html", takes_context=True)
def breach_clock_panel(context):
    from governance.breaches.access import breaches_visible_to, can_read_breaches
    from governance.breaches.models import BreachParty
    from governance.breaches.rules import breach_commissioner_clock, breach_party_clock

    user = context["request"].user
    rows = []
    for breach in breaches_visible_to(user).filter(
        commissioner_notified_at__isnull=True, commissioner_not_notified_reason=""
    )[:50]:
        clock = breach_commissioner_clock(breach)
        if clock.chase:
            rows.append((breach, clock))
    # The clock between the parties: the recorder must tell each party the breach involves.
    untold = BreachParty.objects.filter(
        told_at__isnull=True, breach__in=breaches_visible_to(user).filter(organisation_id=user.organisation_id)
    ).select_related("breach", "organisation")
    for party in untold[:50]:
        rows.append((party.breach, breach_party_clock(party)))
    return {"show": can_read_breaches(user), "rows": rows}
