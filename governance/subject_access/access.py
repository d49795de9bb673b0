"""Who may see and do what with subject requests: the shape of ``governance.access``.

A request belongs to the organisation that received it (``SubjectRequest.organisation``): its DPO
(and the DPO of its force, who answers for its units) reads and acts on it. A request referred to
another controller is that controller's own record, linked to the original. Regulators read the
register's metadata — reference, right, regime, dates, status — and never the contents (the
requester's details, the items found, the response): ``to="contents"`` refuses them. Another
organisation's request looks exactly like a missing one (404).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from governance.access import (
    RecordAccess,
    _organisation,
    answerable_ids,
    is_regulator,
    page_predicate_register,
    role_allows,
)
from governance.errors import NotFound, PermissionRefused
from governance.subject_access.models import SubjectRequest

_ACTIONS: dict[str, str] = {
    "view": "governance.view_subjectrequest",
    "contents": "governance.view_subjectrequest",
    "change": "governance.change_subjectrequest",
    "search": "governance.search_subjectrequest",
    "export": "governance.change_subjectrequest",
}


def subject_requests_visible_to(actor: Any) -> QuerySet[SubjectRequest]:
    if not can_read_subject_requests(actor):
        return SubjectRequest.objects.none()
    queryset = SubjectRequest.objects.select_related("organisation", "referred_from", "referred_from__organisation")
    if is_regulator(actor):
        return queryset
    return queryset.filter(organisation_id__in=answerable_ids(_organisation(actor)))


def subject_request_refusal(actor: Any, request: SubjectRequest, to: str) -> PermissionRefused | None:
    """Why the actor may not do ``to`` to a request they can see (``None``: they may)."""
    if to == "view":
        return None
    if is_regulator(actor):
        return PermissionRefused(
            "Regulators read the register of subject requests, not their contents.", code="metadata_only"
        )
    if not role_allows(actor, _ACTIONS[to]):
        return PermissionRefused("Your role does not allow this action on a subject request.")
    return None


_SUBJECT_REQUESTS = RecordAccess(
    subject_requests_visible_to, subject_request_refusal, "No such subject request.", "subject_request_not_found"
)


# The button test, the check of a record in hand, and the lookup by id (``RecordAccess``).
can_subject_request = _SUBJECT_REQUESTS.can
subject_request_check = _SUBJECT_REQUESTS.check
subject_request_for = _SUBJECT_REQUESTS.by_id


def can_read_subject_requests(actor: Any) -> bool:
    """The register of subject requests (its link and its pages): DPOs and regulators (metadata only)."""
    return role_allows(actor, "governance.view_subjectrequest")


def can_answer_subject_requests(actor: Any) -> bool:
    """Acting on subject requests (compiling, recipients, consultations, deadline reminders): DPOs of the
    organisations that receive them. Which request: ``subject_request_for(..., to="change")``."""
    return role_allows(actor, "governance.change_subjectrequest")


def can_receive_subject_requests(actor: Any) -> bool:
    """A DPO of an operator or a force (not a regulator) records requests their organisation receives."""
    return role_allows(actor, "governance.add_subjectrequest") and not is_regulator(actor)


def subject_request_export_for(actor: Any, pk: Any, *, to: str = "export"):
    """An export of a request the actor may see; its files only for who may export it."""
    from governance.subject_access.models import SubjectRequestExport

    try:
        export = SubjectRequestExport.objects.select_related("request", "request__organisation").get(
            pk=pk, request__in=subject_requests_visible_to(actor)
        )
    except (SubjectRequestExport.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("No such export.", code="export_not_found") from None
    refusal = subject_request_refusal(actor, export.request, to)
    if refusal is not None:
        raise refusal
    return export


page_predicate_register("read_subject_requests", can_read_subject_requests)
