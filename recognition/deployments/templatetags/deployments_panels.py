"""The dashboard's "unreported outcomes" panel (chasing police for what they did with a disclosure)."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.inclusion_tag("deployments/outcomes_panel.html", takes_context=True)
def unreported_outcomes_panel(context):
    from governance.access import role_allows
    from recognition.deployments.selectors import disclosures_awaiting_outcome

    user = context["request"].user
    show = role_allows(user, "deployments.view_disclosure")
    return {
        "show": show,
        "days": settings.OVERSIGHT_OUTCOME_CHASE_DAYS,
        "overdue": list(disclosures_awaiting_outcome(user=user)[:20]) if show else [],
    }
