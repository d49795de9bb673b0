"""The purpose form (a justification at the point of access) and "who looked at this record": thin
views over ``governance.audit.consultation``."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from governance.access import can_read_audit_log
from governance.audit.consultation import (
    PURPOSE_KINDS,
    audit_consultation,
    consultations_of_record,
    consultations_of_subject,
    personal_data,
    purpose_remember,
    safe_next,
)
from governance.errors import NotFound, PermissionRefused, ValidationFailed
from governance.web.errors import refusals_as_pages


@login_required
@refusals_as_pages
def consultation_purpose(request: HttpRequest) -> HttpResponse:
    """Asks why, once per kind of task (or every time where the law wants free text), then returns."""
    kind = PURPOSE_KINDS.get(request.GET.get("kind", ""))
    if kind is None:
        raise NotFound("No such kind of access.")
    next_url = safe_next(request, request.GET.get("next", ""))
    error = ""
    if request.method == "POST":
        purpose = request.POST.get("purpose", "").strip()
        if purpose == "other":
            purpose = request.POST.get("purpose_text", "")
        try:
            purpose_remember(request, kind.name, purpose)
        except ValidationFailed as refusal:
            error = refusal.message
        else:
            return redirect(next_url)
    return render(
        request,
        "governance/consultation_purpose.html",
        {"kind": kind, "next": next_url, "error": error},
        status=400 if error else 200,
    )


def _require_audit_role(user) -> None:
    if not can_read_audit_log(user):
        raise PermissionRefused("Your role cannot read the audit log.")


@login_required
@refusals_as_pages
@personal_data("=Checking who consulted a record")
def record_consultations(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Who looked at this record: its consultations the user may read (the audit log's scope)."""
    _require_audit_role(request.user)
    record, events = consultations_of_record(user=request.user, slug=kind, pk=pk)
    audit_consultation(
        actor=request.user,
        target=("governance.auditlog", "-", "Audit log"),
        event="audit_log.consultations_viewed",
        justification=request.consultation_purpose,
        shown=f"who consulted {record}",
    )
    return render(request, "governance/consultations.html", {"title": str(record), "events": events})


@login_required
@refusals_as_pages
@personal_data("=Checking who consulted a subject's records")
def subject_consultations(request: HttpRequest, reference: str) -> HttpResponse:
    """Who looked at records about one subject reference, within the user's audit scope."""
    _require_audit_role(request.user)
    reference = reference.strip()[:100]
    events = consultations_of_subject(user=request.user, reference=reference)
    audit_consultation(
        actor=request.user,
        target=("governance.auditlog", "-", "Audit log"),
        event="audit_log.consultations_viewed",
        justification=request.consultation_purpose,
        shown=f"who consulted records about subject {reference}",
    )
    return render(
        request, "governance/consultations.html", {"title": f"Subject reference {reference}", "events": events}
    )
