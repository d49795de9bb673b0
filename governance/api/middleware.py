"""The API's edge: every response under ``/api/`` is JSON, and reasons never travel in URLs.

* Errors that never reach DRF's exception handler — an unknown URL (Django's 404 page, the
  technical one under DEBUG), an exception in a view or middleware (the 500 page), a database or
  broker outage (503) — are answered in the API's one error shape,
  ``{"error": {"code", "message", "details"}}``, never as an HTML page.
* A query string naming a justification, a reason or notes is refused (400 ``reason_in_query_string``)
  before any view runs: URLs land in proxies' access logs, browser history and Referer headers,
  and a justification often names the person concerned. They go in a header or the body.
"""

from __future__ import annotations

import logging
import re

from django.core.exceptions import SuspiciousOperation
from django.db import DatabaseError
from django.http import JsonResponse

from governance.ops.health import dependency_outage

logger = logging.getLogger("oversight.api")

API_PREFIX = "/api/"
# Any query parameter whose name says it carries a justification, a reason or notes (free text that
# often names the person concerned): "justification", "X-Reason", "withdrawal_reason", "outcome_notes"...
REASON_PARAMETER = re.compile(r"justification|reason|notes", re.IGNORECASE)
_MESSAGES = {
    400: ("bad_request", "The request is not valid."),
    401: ("not_authenticated", "Authentication credentials were not provided or are not valid."),
    403: ("permission_denied", "You do not have permission to do this."),
    404: ("not_found", "No such resource."),
    405: ("method_not_allowed", "Method not allowed."),
    413: ("too_large", "The request is too large."),
    429: ("throttled", "Too many requests."),
    500: ("server_error", "Something went wrong on our side; it has been logged."),
    503: ("unavailable", "A service Oversight depends on is unavailable; retry shortly."),
}


def api_error(status: int, code: str | None = None, message: str | None = None, details=None) -> JsonResponse:
    default_code, default_message = _MESSAGES.get(status, ("error", "The request failed."))
    response = JsonResponse(
        {"error": {"code": code or default_code, "message": message or default_message, "details": details}},
        status=status,
    )
    if status == 503:
        response["Retry-After"] = "5"
    return response


class ApiEdgeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        named = sorted({key for key in request.GET if REASON_PARAMETER.search(key)})
        if named:
            return api_error(
                400,
                "reason_in_query_string",
                "Justifications and reasons go in the X-Justification / X-Reason header or the body, never in the URL.",
                {"parameters": named},
            )
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if response.status_code >= 400 and "json" not in content_type:
            return api_error(response.status_code)
        return response

    def process_exception(self, request, exception):
        if not request.path_info.startswith(API_PREFIX):
            return None
        if dependency_outage(exception):
            logger.warning(
                "API %s %s: dependency unavailable (%s)",
                request.method,
                request.path_info,
                exception.__class__.__name__,
            )
            return api_error(503)
        if isinstance(exception, SuspiciousOperation):  # a body Django refuses to parse, outside DRF
            from governance.api.errors import REFUSED_BODIES

            _kind, status, code, message = next(r for r in REFUSED_BODIES if isinstance(exception, r[0]))
            return api_error(status, code, message)
        if isinstance(exception, DatabaseError):
            logger.error("API %s %s: database error", request.method, request.path_info, exc_info=exception)
            return api_error(500)
        logger.error(
            "API %s %s: unhandled %s",
            request.method,
            request.path_info,
            exception.__class__.__name__,
            exc_info=exception,
        )
        return api_error(500)


class ContentLengthMiddleware:
    """Refuse a request whose Content-Length is not a byte count (400), before anything reads it.

    First in the chain: the metrics middleware and Django's body reading take ``int()`` of the
    header, so "12abc" was a 500 on every route. Under ``/api/`` the refusal is the API's JSON shape.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        declared = str(request.META.get("CONTENT_LENGTH") or "").strip()
        if declared and not (declared.isascii() and declared.isdigit()):
            message = "Content-Length must be a whole number of bytes."
            if request.path.startswith(API_PREFIX):
                return api_error(400, "invalid_content_length", message)
            from django.http import HttpResponseBadRequest

            return HttpResponseBadRequest(message)
        return self.get_response(request)
