"""Query-string filters read the same way by every list endpoint: bounded, and refused with a coded
400 rather than passed to the database as they came (PostgreSQL refuses a NUL character in a text
parameter with an error that would otherwise be a 500). The rules themselves are
``governance.inputs``, shared with the web views."""

from __future__ import annotations

from governance.errors import ValidationFailed
from governance.inputs import CONTROL_CHARACTERS, MAX_ID_DIGITS, is_id

MAX_SEARCH_CHARACTERS = 100


def query_text(params, name: str, *, max_length: int = MAX_SEARCH_CHARACTERS) -> str:
    value = params.get(name, "")
    if CONTROL_CHARACTERS.search(value):
        raise ValidationFailed(f"{name} may not contain control characters.", code="invalid_filter")
    return value[:max_length]


def query_choice(params, name: str, choices) -> str:
    value = params.get(name, "")
    if value and value not in choices:
        raise ValidationFailed(f"Unknown {name}.", code="invalid_filter", details={name: list(choices)})
    return value


def query_id(params, name: str) -> int | None:
    value = params.get(name, "")
    if not value:
        return None
    if len(value) > MAX_ID_DIGITS or not is_id(value):
        raise ValidationFailed(f"{name} must be an id.", code="invalid_filter")
    return int(value)
