"""Query-string filters read the same way by every list endpoint: bounded, and refused with a coded
400 rather than passed to the database as they came (PostgreSQL refuses a NUL character in a text
parameter with an error that would otherwise be a 500)."""

from __future__ import annotations

from governance.errors import ValidationFailed

MAX_SEARCH_CHARACTERS = 100


def query_text(params, name: str, *, max_length: int = MAX_SEARCH_CHARACTERS) -> str:
    value = params.get(name, "")
    if "\x00" in value:
        raise ValidationFailed(f"{name} may not contain a NUL character.", code="invalid_filter")
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
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise ValidationFailed(f"{name} must be an id.", code="invalid_filter")
    return int(value)
