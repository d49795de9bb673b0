"""One input-cleaning layer for query strings and web forms, shared by the web views and the API.

Nothing a client sends is a 500 (issue 26). Three rules, each in one place:

* **No control characters.** A NUL (PostgreSQL refuses it in a text parameter: a 500; SQLite
  stores it) or any other C0 control character or DEL, in a query parameter's name or value or a
  form field's, is refused with a coded 400 (``control_character``) before any view runs
  (``InputCleaningMiddleware``). Tab, line feed and carriage return are text (a textarea sends
  them). API request bodies are read by the API's parsers and serializers, which refuse the same
  characters with ``refuse_control_characters``.
* **Digits are ASCII.** ``"²".isdigit()`` is true and ``int("²")`` raises; ``parse_int`` reads
  only ``0``–``9`` and refuses anything else with a coded 400.
* **Numbers are range-checked.** An id is at most ``MAX_ID`` (a 30-digit id overflows SQLite's
  64-bit integers: a 500), and every number parsed here has a minimum and maximum.
"""

from __future__ import annotations

import re

from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string

from governance.errors import ValidationFailed

# C0 controls except tab, line feed and carriage return; and DEL.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_ID = 2**63 - 1  # the largest primary key any supported database holds (bigint)
MAX_ID_DIGITS = 19


def refuse_control_characters(value: str, name: str) -> str:
    """``value`` unchanged, or ``ValidationFailed`` (``control_character``) if it holds a NUL or
    another control character."""
    if CONTROL_CHARACTERS.search(value):
        raise ValidationFailed(f"{name} may not contain control characters.", code="control_character")
    return value


def parse_int(value, name: str, *, minimum: int = 0, maximum: int = MAX_ID) -> int:
    """An integer written in ASCII digits (an optional leading ``-`` where ``minimum`` allows it),
    within ``minimum``..``maximum``; anything else is ``ValidationFailed`` (``invalid_number``)."""
    text = str(value).strip()
    digits = text[1:] if text.startswith("-") and minimum < 0 else text
    if not digits or not (digits.isascii() and digits.isdigit()) or len(digits) > MAX_ID_DIGITS:
        raise ValidationFailed(f"{name} must be a whole number.", code="invalid_number")
    number = int(text)
    if not minimum <= number <= maximum:
        raise ValidationFailed(
            f"{name} must be between {minimum} and {maximum}.",
            code="number_out_of_range",
            details={name: {"minimum": minimum, "maximum": maximum}},
        )
    return number


def parse_id(value, name: str) -> int:
    """A record id: a positive ASCII integer a database can hold."""
    return parse_int(value, name, minimum=1, maximum=MAX_ID)


def optional_id(value, name: str) -> int | None:
    """``None`` for an absent or empty value, else ``parse_id``."""
    if value is None or str(value).strip() == "":
        return None
    return parse_id(value, name)


def is_id(value) -> bool:
    """Whether ``value`` is a record id (for code that treats a non-id as "no such record")."""
    text = str(value)
    return bool(text) and text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS and 0 < int(text) <= MAX_ID


# --- the middleware ------------------------------------------------------------------------------

FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _first_refused(querydict) -> str | None:
    for key, values in querydict.lists():
        if CONTROL_CHARACTERS.search(key):
            return key
        for value in values:
            if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
                return key
    return None


def _refusal(request, name: str) -> HttpResponse:
    message = "The request contains a control character (such as NUL), which no field accepts."
    if request.path_info.startswith("/api/"):
        from governance.api.middleware import api_error

        # The API's existing code for a query parameter it refuses (its error catalogue lists it).
        return api_error(400, "invalid_filter", message, {"parameter": name[:100]})
    body = render_to_string("errors/400.html", {"message": message, "code": "control_character"}, request=request)
    return HttpResponse(body, status=400)


class InputCleaningMiddleware:
    """Refuse, with a coded 400, a query string or web form holding a control character.

    Query strings everywhere; form bodies (urlencoded or multipart fields, and uploaded files'
    names) outside ``/api/`` only — the API's parsers read their bodies themselves, and reading
    ``request.POST`` here would consume the stream they need."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refused = _first_refused(request.GET)
        if refused is None and not request.path_info.startswith("/api/") and request.method == "POST":
            content_type = request.META.get("CONTENT_TYPE", "")
            if content_type.startswith(FORM_CONTENT_TYPES):
                try:
                    refused = _first_refused(request.POST)
                    files = request.FILES.lists()
                except MultiPartParserError:
                    return HttpResponseBadRequest("The form body is not valid multipart data.")
                for key, uploads in files if refused is None else ():
                    if any(CONTROL_CHARACTERS.search(upload.name or "") for upload in uploads):
                        refused = key
                        break
        if refused is not None:
            return _refusal(request, refused)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        """A path id (``<int:pk>``) no database can hold — 30 digits overflow SQLite's integers — is
        a record that does not exist: 404, before the view queries for it."""
        if any(isinstance(value, int) and value > MAX_ID for value in (*view_args, *view_kwargs.values())):
            raise Http404("No such record.")
        return None


# --- justifications ----------------------------------------------------------------------------

MIN_JUSTIFICATION_CHARACTERS = 10
MIN_DISTINCT_CHARACTERS = 5


def meaningful_justification(text: str | None, *, minimum: int = MIN_JUSTIFICATION_CHARACTERS) -> bool:
    """Whether ``text`` can be a justification in a consultation log (DPA 2018 s.62(3): the log shows
    "the justification for ... consultation"): at least ``minimum`` characters, at least five
    different letters or digits, and no one character making up half of it — "xxxxxxxxxx",
    "abababababab" and ten dots are not reasons (issue 26)."""
    stripped = (text or "").strip()
    if len(stripped) < minimum or CONTROL_CHARACTERS.search(stripped):
        return False
    letters = [c.casefold() for c in stripped if c.isalnum()]
    if len(set(letters)) < MIN_DISTINCT_CHARACTERS:
        return False
    compact = [c.casefold() for c in stripped if not c.isspace()]
    most = max(compact.count(c) for c in set(compact))
    return most * 2 <= len(compact)
