"""A subject request's row for a change: locked the safe way (``governance.locks.lock_rows``, before the change's
audit event), and the rule that a closed request takes no more changes. The request's services and the supplier
consultation both start their changes here."""

from __future__ import annotations

from governance.errors import StateConflict
from governance.locks import lock_rows
from governance.subject_access.models import CLOSED_STATUSES, SubjectRequest


def require_open(request: SubjectRequest) -> None:
    """A closed request (responded to, refused or withdrawn: ``CLOSED_STATUSES``) takes no more changes."""
    if request.status in CLOSED_STATUSES:
        raise StateConflict("This request is closed.", code="request_closed")


def request_locked(request: SubjectRequest) -> SubjectRequest:
    """The request's row, re-read and locked until the caller's transaction ends."""
    return lock_rows(SubjectRequest.objects).select_related("organisation").get(pk=request.pk)
