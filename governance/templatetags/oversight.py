import re

from django import template

register = template.Library()


@register.filter
def details_text(details) -> str:
    """An audit event's details as 'key: value' pairs, readable by a DPO; dates and times stored as ISO strings are
    written as every page writes them ('2 Dec 2026', '2 Dec 2026, 03:57 GMT')."""
    if not isinstance(details, dict) or not details:
        return ""
    parts = []
    for key, value in details.items():
        if isinstance(value, dict):
            value = ", ".join(
                f"{k} {' → '.join(map(_detail_value, v)) if isinstance(v, list) else _detail_value(v)}"
                for k, v in value.items()
            )
        elif isinstance(value, list):
            value = ", ".join(map(_detail_value, value))
        else:
            value = _detail_value(value)
        parts.append(f"{key.replace('_', ' ')}: {value}")
    return "; ".join(parts)


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")


def _detail_value(value) -> str:
    """One detail value as text: an ISO date or date-time (how the audit log stores them) in the product's format."""
    from datetime import date, datetime

    from governance.presentation import day_text, when_text

    if isinstance(value, str):
        try:
            if _ISO_DAY.fullmatch(value):
                return day_text(date.fromisoformat(value))
            if _ISO_MOMENT.fullmatch(value):
                return when_text(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:  # shaped like a date but not one (e.g. 2026-13-45): shown as stored
            return value
    return str(value)


@register.filter
def described(events):
    """The events with their plain words (``governance.audit.describe``): ``e.words.sentence``,
    ``e.words.target_url``. One query for the actors' names, whatever the number of events."""
    from governance.audit.describe import events_described

    return events_described(events)
