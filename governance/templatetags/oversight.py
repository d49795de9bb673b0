from django import template

register = template.Library()


@register.filter
def details_text(details) -> str:
    """An audit event's details as 'key: value' pairs, readable by a DPO."""
    if not isinstance(details, dict) or not details:
        return ""
    parts = []
    for key, value in details.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {' → '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(map(str, value))
        parts.append(f"{key.replace('_', ' ')}: {value}")
    return "; ".join(parts)


@register.filter
def described(events):
    """The events with their plain words (``governance.audit.describe``): ``e.words.sentence``,
    ``e.words.target_url``. One query for the actors' names, whatever the number of events."""
    from governance.audit.describe import events_described

    return events_described(events)
