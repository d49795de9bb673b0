"""The audit log's proofs and signed tree heads on the web: thin views over the selectors."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from governance.access import audit_event_for
from governance.audit.sequencer import audit_event_inclusion_proof
from governance.audit.transparency import audit_consistency_published, audit_heads_published
from governance.audit.verification import audit_verification_start
from governance.inputs import parse_int
from governance.web.errors import refusals_as_pages


def _int_param(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    return parse_int(value, name, minimum=0) if value else None


@login_required
@refusals_as_pages
def audit_event_proof(request: HttpRequest, pk: int) -> HttpResponse:
    """The inclusion proof of one event the user may read (``pk``: its number, #sequence), as a JSON
    file for ``tlog.py --proof``."""
    sequence = pk
    event = audit_event_for(request.user, sequence)
    proof = audit_event_inclusion_proof(event, tree_size=_int_param(request, "tree_size"))
    response = HttpResponse(json.dumps(proof, indent=2), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="audit-event-{sequence}-proof.json"'
    return response


@refusals_as_pages
def audit_log_heads(request: HttpRequest) -> HttpResponse:
    """Public, no sign-in: the head keys and the latest signed tree heads; with ``first`` and
    ``second`` (tree sizes), the consistency proof between those two heads. Hashes only."""
    first, second = _int_param(request, "first"), _int_param(request, "second")
    if first is not None and second is not None:
        return JsonResponse(audit_consistency_published(first, second))
    return JsonResponse(audit_heads_published())


@login_required
@require_POST
@refusals_as_pages
def audit_verify(request: HttpRequest) -> HttpResponse:
    """A DPO or the regulator starts a verification of the whole log; the audit page shows its progress."""
    run = audit_verification_start(actor=request.user)
    messages.success(request, f"Verification #{run.pk} of the audit log started; its progress is shown below.")
    return redirect("audit-log")
