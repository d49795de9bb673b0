"""Reads of subject requests, always through the access layer (``subject_requests_visible_to``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from governance.errors import NotFound
from governance.inputs import is_id
from governance.subject_access.access import subject_requests_visible_to
from governance.subject_access.deadlines import days_remaining
from governance.subject_access.models import CLOCK_STOPPED_STATUSES, CLOSED_STATUSES, SubjectPhotoSearch, SubjectRequest

DUE_SOON_DAYS = 7


@dataclass(frozen=True)
class Deadline:
    """How a request stands against its deadline, in the words the list and the dashboard use."""

    code: str  # "closed" | "stopped" | "overdue" | "due_soon" | "running"
    text: str
    days: int | None


def subject_request_deadline(request: SubjectRequest, *, today: date | None = None) -> Deadline:
    today = today or timezone.localdate()
    if request.status in CLOSED_STATUSES:
        return Deadline("closed", request.get_status_display(), None)
    if request.status in CLOCK_STOPPED_STATUSES or request.due_on is None:
        return Deadline("stopped", "Clock stopped", None)
    days = days_remaining(request.due_on, today)
    if days < 0:
        return Deadline("overdue", f"Overdue by {-days} day{'s' if days != -1 else ''}", days)
    if days == 0:
        return Deadline("due_soon", "Due today", 0)
    text = f"{days} day{'s' if days != 1 else ''} left"
    return Deadline("due_soon" if days <= DUE_SOON_DAYS else "running", text, days)


def subject_request_list(*, user: Any, status: str = "", overdue: bool = False) -> QuerySet[SubjectRequest]:
    requests = subject_requests_visible_to(user)
    if status == "open":
        requests = requests.exclude(status__in=CLOSED_STATUSES)
    elif status:
        requests = requests.filter(status=status)
    if overdue:
        requests = requests.exclude(status__in=CLOSED_STATUSES).filter(due_on__lt=timezone.localdate())
    return requests.order_by("due_on", "-received_on", "pk")


def subject_requests_needing_attention(*, user: Any, limit: int = 20) -> list[tuple[SubjectRequest, Deadline]]:
    """Open requests for the dashboard: clock running, soonest deadline first (overdue at the top)."""
    today = timezone.localdate()
    rows = []
    open_requests = subject_requests_visible_to(user).exclude(status__in=CLOSED_STATUSES).order_by("due_on", "pk")
    for request in open_requests[:limit]:
        rows.append((request, subject_request_deadline(request, today=today)))
    return rows


def subject_photo_search_for(actor: Any, request: SubjectRequest, pk: Any) -> SubjectPhotoSearch:
    """One photo search of ``request`` (already read through ``subject_request_for``), only for the DPO who made
    it: its candidates were found with that person's access and are shown to no one else, as a search's answer
    always was. Any other id, or another person's search, is ``NotFound`` (missing and forbidden look the same)."""
    search = None
    if is_id(pk) and getattr(actor, "pk", None) is not None:
        search = SubjectPhotoSearch.objects.filter(request=request, actor=actor, pk=int(pk)).first()
    if search is None:
        raise NotFound("No such search.", code="photo_search_not_found")
    return search
