"""Every error the API returns has one shape: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from governance.errors import ApplicationError
from governance.ops.health import dependency_outage


def _body(code: str, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": message, "details": details}}


# Django refuses these while DRF parses a body (``request.data``); DRF lets them escape as a 500.
# Checked in order (the first three are SuspiciousOperations too).
REFUSED_BODIES = (
    (RequestDataTooBig, 413, "body_too_large", "The request body is larger than the server accepts."),
    (TooManyFieldsSent, 400, "too_many_fields", "The request has more form fields than the server accepts."),
    (TooManyFilesSent, 400, "too_many_files", "The request has more files than the server accepts."),
    (SuspiciousOperation, 400, "bad_request", "The request is not valid."),
)


def refused_body(exc) -> Response | None:
    for kind, status_code, code, message in REFUSED_BODIES:
        if isinstance(exc, kind):
            return Response(_body(code, message), status=status_code)
    return None


def application_exception_handler(exc, context):
    if dependency_outage(exc):
        # PostgreSQL or Redis unreachable (e.g. during the camera-key lookup): retry later, not a bug.
        response = Response(
            _body("unavailable", "A service Oversight depends on is unavailable; retry shortly."),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        response["Retry-After"] = "5"
        return response
    if isinstance(exc, ApplicationError):
        response = Response(_body(exc.code, exc.message, exc.details), status=exc.status_code)
        if getattr(exc, "retry_after_seconds", None):  # a refusal that passes with time (e.g. ``ImageDoorBusy``)
            response["Retry-After"] = str(exc.retry_after_seconds)
        return response
    refused = refused_body(exc)
    if refused is not None:
        return refused
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = _body("validation_failed", "The request is not valid.", response.data)
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        codes = exc.get_codes()
        response.data = _body(codes if isinstance(codes, str) else "error", detail)
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS and getattr(exc, "wait", None):
        response["Retry-After"] = str(int(exc.wait) + 1)
    return response
