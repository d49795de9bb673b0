"""Query-string filters read the same way by every list endpoint: bounded, and refused with a coded
400 rather than passed to the database as they came (PostgreSQL refuses a NUL character in a text
parameter with an error that would otherwise be a 500). The rules themselves are
``governance.inputs``, shared with the web views."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter

from governance.audit.consultation import PURPOSE_HEADER
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


# The justification of a read of personal data (``governance.audit.consultation``), documented on
# every API operation that records one.
PURPOSE_PARAMETER = OpenApiParameter(
    PURPOSE_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Why you are reading this personal data (DPA 2018 s.62), recorded with the read (at most 300 "
    "characters). Where your task does not imply one (e.g. reading another organisation's images), the "
    "request is refused with 400 purpose_required without it.",
    examples=[OpenApiExample("A purpose", value="Acting on disclosures received")],
)
