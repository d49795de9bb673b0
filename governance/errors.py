"""The application's error hierarchy.

Services raise these; the API exception handler turns them into
``{"error": {"code": ..., "message": ..., "details": ...}}`` with the right 4xx, and the web views
show the message. A user never sees a 500 for bad input.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A refusal the user can act on. ``code`` is machine-readable, ``message`` a human sentence."""

    status_code = 400
    default_code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = details


class ValidationFailed(ApplicationError):
    status_code = 400
    default_code = "validation_failed"


class PermissionRefused(ApplicationError):
    """The user may see the object but their role or organisation may not do this to it."""

    status_code = 403
    default_code = "permission_refused"


class NotFound(ApplicationError):
    """Also used for objects of another organisation: no access looks exactly like not found."""

    status_code = 404
    default_code = "not_found"


class StateConflict(ApplicationError):
    """The object is not in a state that allows the action (e.g. approving a draft)."""

    status_code = 409
    default_code = "state_conflict"


class AuditEventNotSequenced(StateConflict):
    """The event waits for the audit sequencer: it has no leaf in a signed tree head yet."""

    default_code = "audit_event_not_sequenced"


class RateLimited(ApplicationError):
    """Too many requests from one client or for one controller in a window, or too many wrong codes."""

    status_code = 429
    default_code = "rate_limited"
