"""``{% regulator_correspondence record %}``: the regulator's acknowledgement of and queries about a record
notified to it, on the record's own page (agreement, breach), with the forms for whoever may act."""

from django import template

from governance.notifications.selectors import correspondence_for

register = template.Library()


@register.inclusion_tag("notifications/_correspondence.html", takes_context=True)
def regulator_correspondence(context, record):
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "c": correspondence_for(user, record) if user is not None else None,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("notifications/_received_actions.html", takes_context=True)
def received_actions(context, kind, record, unacknowledged):
    """On the regulator's home: "Acknowledge" for a notification not yet acknowledged, else its state."""
    return {
        "kind": kind,
        "record": record,
        "waiting": f"{kind}:{record.pk}" in unacknowledged,
        "csrf_token": context.get("csrf_token"),
    }
