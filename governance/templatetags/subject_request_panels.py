"""The dashboard's subject request panel: open requests with their deadline (overdue first)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.inclusion_tag("subject_access/deadline_panel.html", takes_context=True)
def subject_request_deadline_panel(context):
    from governance.access import role_allows
    from governance.subject_access.selectors import subject_requests_needing_attention

    user = context["request"].user
    show = role_allows(user, "governance.view_subjectrequest")
    rows = subject_requests_needing_attention(user=user) if show else []
    rows.sort(key=lambda row: (row[1].days is None, row[1].days if row[1].days is not None else 0))
    return {"show": show, "rows": rows, "overdue": sum(1 for _, d in rows if d.code == "overdue")}
