"""The DPO's web pages. Thin: parse the form → selector → one service → render.

Errors raised by services (``ApplicationError``) are shown to the user as messages; objects of
another organisation are 404, exactly like objects that do not exist.
"""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from governance.access import (
    agreement_for,
    can_agreement,
    can_draft_agreement,
    can_extend_retention,
    can_read_audit_log,
    can_start_audit_verification,
)
from governance.agreements import services as agreement_services
from governance.agreements.documents import agreement_render_pdf
from governance.agreements.models import AgreementStatus
from governance.agreements.retention_terms import agreement_retention_extend
from governance.agreements.rules import (
    agreement_approval_prerequisites,
    agreement_made_under_dpa1998,
    agreement_rule_breaches,
    operator_legal_basis_problems,
    retention_extension_text,
    signed_document_outdated,
)
from governance.agreements.selectors import (
    agreement_history,
    agreement_list,
    agreement_versions,
    dashboard_figures,
)
from governance.audit.models import AuditAction
from governance.audit.selectors import audit_events_search
from governance.audit.services import audit_log_consult, audit_record
from governance.errors import ApplicationError, NotFound, PermissionRefused
from governance.home.selectors import home_for
from governance.organisations.models import Organisation
from governance.reports.links import agreement_links
from governance.web.errors import refusal_on_form, refusals_as_pages
from governance.web.forms import (
    AgreementForm,
    AmendForm,
    AuditSearchForm,
    ReasonForm,
    RegulatorNotificationForm,
    RenewForm,
    RetentionExtensionForm,
    SignedDocumentForm,
)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Each role's home, where sign-in lands: what the user must act on (the panels each app
    registers, ``governance.home``), then for DPOs and regulators the register at a glance.
    An administrator's home is the administration page (with the panels of any other role they
    hold); this is the one place that decides it."""
    home = home_for(user=request.user)
    if home["is_admin"]:
        return redirect("administration-home")
    figures = dashboard_figures(user=request.user) if home["is_dpo"] or home["is_regulator"] else None
    return render(request, "governance/dashboard.html", {"home": home, "figures": figures})


@login_required
def agreement_register(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    organisation = request.GET.get("organisation", "")
    search = request.GET.get("q", "").strip()
    agreements = agreement_list(user=request.user, status=status, organisation=organisation, search=search)
    page = Paginator(agreements, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "governance/agreement_list.html",
        {
            "page": page,
            "statuses": AgreementStatus.choices,
            "organisations": Organisation.objects.order_by("name"),
            "filters": {"status": status, "organisation": organisation, "q": search},
            "can_draft": can_draft_agreement(request.user),
        },
    )


@login_required
@refusals_as_pages
def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = agreement_for(request.user, pk)
    user = request.user
    return render(
        request,
        "governance/agreement_detail.html",
        {
            "agreement": agreement,
            "breaches": agreement_rule_breaches(agreement),
            "signed_outdated": signed_document_outdated(agreement),
            "under_dpa1998": agreement_made_under_dpa1998(agreement),
            # Before approval: every prerequisite and its state at once (the rule approval enforces).
            "checklist": agreement_approval_prerequisites(agreement)
            if agreement.status in {AgreementStatus.DRAFT, AgreementStatus.SUBMITTED}
            else None,
            "history": agreement_history(agreement=agreement).select_related(None),
            "related": agreement_links(user, agreement),
            "versions": agreement_versions(user=user, agreement=agreement),
            "successors": agreement.successors.all(),
            "is_party": can_agreement(user, agreement, "amend") or can_agreement(user, agreement, "change"),
            "show_actions": agreement.status
            in {AgreementStatus.DRAFT, AgreementStatus.SUBMITTED, AgreementStatus.APPROVED, AgreementStatus.ACTIVE},
            # Not "perms": that name is Django's permission wrapper, which the navigation in base.html reads.
            "can": {
                to: can_agreement(user, agreement, to)
                for to in ("change", "submit", "approve", "countersign", "notify", "terminate")
            }
            | {"add": can_agreement(user, agreement, "amend")},
            "notification_form": RegulatorNotificationForm(),
            "extension_form": RetentionExtensionForm(),
            "can_extend_retention": can_extend_retention(user, agreement),
            "retention_extension": retention_extension_text(agreement),
            "legal_basis_problems": []
            if agreement.recorded_retrospectively
            else operator_legal_basis_problems(agreement),
            "reason_form": ReasonForm(),
            "amend_form": AmendForm(),
            "renew_form": RenewForm(),
            "document_form": SignedDocumentForm(),
        },
    )


@login_required
def agreement_create(request: HttpRequest) -> HttpResponse:
    if not can_draft_agreement(request.user):
        return render(
            request,
            "errors/403.html",
            {"message": "Only a data protection officer can draft an agreement."},
            status=403,
        )
    form = AgreementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            agreement = agreement_services.agreement_draft(actor=request.user, fields=form.cleaned_data)
        except ApplicationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, f"Draft {agreement.reference} created.")
            return redirect("agreement-detail", pk=agreement.pk)
    return render(request, "governance/agreement_form.html", {"form": form, "title": "Draft a data-sharing agreement"})


@login_required
@refusals_as_pages
def agreement_edit(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = agreement_for(request.user, pk, to="change")
    form = AgreementForm(request.POST or None, instance=agreement)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in agreement_services.EDITABLE_FIELDS}
        try:
            agreement_services.agreement_update(actor=request.user, agreement=agreement, fields=fields)
        except ApplicationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, "Draft saved.")
            return redirect("agreement-detail", pk=pk)
    return render(
        request, "governance/agreement_form.html", {"form": form, "title": f"Edit {agreement}", "agreement": agreement}
    )


def _run_action(request: HttpRequest, pk: int) -> tuple[str, str]:
    """Dispatch one lifecycle action to its service; returns (message level, text)."""
    action = request.POST.get("action", "")
    agreement = agreement_for(request.user, pk)
    actor = request.user
    if action == "submit":
        agreement_services.agreement_submit(actor=actor, agreement=agreement)
        return "success", "Submitted for force-level approval."
    if action == "countersign":
        agreement_services.agreement_countersign(actor=actor, agreement=agreement)
        return "success", "Countersigned for the operator."
    if action == "approve":
        agreement = agreement_services.agreement_approve(actor=actor, agreement=agreement)
        return "success", f"Approved. The agreement is now {agreement.get_status_display().lower()}."
    if action == "notify":
        form = RegulatorNotificationForm(request.POST)
        if not form.is_valid():
            return "error", "Regulator notification: " + _errors_text(form)
        agreement_services.agreement_record_regulator_notification(
            actor=actor, agreement=agreement, **form.cleaned_data
        )
        return "success", "Regulator notification recorded."
    if action == "extend_retention":
        form = RetentionExtensionForm(request.POST)
        if not form.is_valid():
            return "error", "Longer retention term: " + _errors_text(form)
        agreement_retention_extend(actor=actor, agreement=agreement, **form.cleaned_data)
        return "success", "Longer retention term approved and recorded."
    if action == "terminate":
        form = ReasonForm(request.POST)
        if not form.is_valid():
            return "error", "Termination: " + _errors_text(form)
        agreement_services.agreement_terminate(actor=actor, agreement=agreement, reason=form.cleaned_data["reason"])
        return "success", "Agreement terminated. Watchlist data must now be erased within the agreed hours."
    if action == "document":
        form = SignedDocumentForm(request.POST, request.FILES)
        if not form.is_valid():
            return "error", "Signed document: " + _errors_text(form)
        agreement_services.agreement_attach_signed_document(
            actor=actor, agreement=agreement, document=form.cleaned_data["document"]
        )
        return "success", "Signed document attached."
    raise NotFound("Unknown action.")


def _errors_text(form) -> str:
    """A form's errors as one sentence, each under the field's label (never its code name)."""
    parts = []
    for field, errs in form.errors.items():
        label = form[field].label if field in form.fields else ""
        parts.append(f"{label}: {' '.join(errs)}" if label else " ".join(errs))
    return "; ".join(parts)


@login_required
@require_POST
@refusals_as_pages
def agreement_action(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        level, text = _run_action(request, pk)
    except NotFound:
        raise
    except ApplicationError as error:
        level, text = "error", error.message
    getattr(messages, level)(request, text)
    return redirect("agreement-detail", pk=pk)


@login_required
@require_POST
@refusals_as_pages
def agreement_amend(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = agreement_for(request.user, pk)
    form = AmendForm(request.POST)
    try:
        if not form.is_valid():
            raise ApplicationError("Describe what the amendment changes.")
        amendment = agreement_services.agreement_amend(
            actor=request.user, agreement=agreement, summary=form.cleaned_data["summary"]
        )
    except NotFound:
        raise
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("agreement-detail", pk=pk)
    messages.success(
        request,
        f"Amendment (version {amendment.version}) drafted. The current version stays in force until it is approved.",
    )
    return redirect("agreement-edit", pk=amendment.pk)


@login_required
@require_POST
@refusals_as_pages
def agreement_renew(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = agreement_for(request.user, pk)
    form = RenewForm(request.POST)
    try:
        if not form.is_valid():
            raise ApplicationError("Renewal: " + _errors_text(form))
        successor = agreement_services.agreement_renew(actor=request.user, agreement=agreement, **form.cleaned_data)
    except NotFound:
        raise
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("agreement-detail", pk=pk)
    messages.success(request, f"Renewal {successor.reference} drafted.")
    return redirect("agreement-edit", pk=successor.pk)


@login_required
@refusals_as_pages
def agreement_document(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = agreement_for(request.user, pk)
    if not agreement.signed_document:
        raise Http404("No signed document.")
    with transaction.atomic():
        audit_record(
            action=AuditAction.CONSULTATION,
            event="agreement.document_read",
            actor=request.user,
            target=agreement,
            justification="Signed agreement downloaded from the register",
        )
    response = FileResponse(
        agreement.signed_document.open("rb"),
        as_attachment=True,
        filename=f"{agreement.reference}-v{agreement.version}-signed.pdf",
        content_type="application/pdf",
    )
    # Never a page of ours: a download, and if a browser renders it anyway, in a sandbox (issue 26).
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@refusals_as_pages
def agreement_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The agreement's terms as a PDF (WeasyPrint) — a draft's to be signed by both parties and then
    attached as the signed document. Anyone who reads the agreement may download it: it holds the
    terms only, no personal data."""
    agreement = agreement_for(request.user, pk)
    response = HttpResponse(agreement_render_pdf(agreement=agreement), content_type="application/pdf")
    kind = "for-signature" if agreement.status in {AgreementStatus.DRAFT, AgreementStatus.SUBMITTED} else "terms"
    response["Content-Disposition"] = f'attachment; filename="{agreement.reference}-v{agreement.version}-{kind}.pdf"'
    return response


# --- audit log -------------------------------------------------------------------------------------


@login_required
@refusals_as_pages
def audit_log(request: HttpRequest) -> HttpResponse:
    """Search or export the audit log. A POST, never a GET: the justification (and search text that
    may name someone) must not land in URLs, browser history or the proxy's access log."""
    form = AuditSearchForm(request.POST if request.method == "POST" else None)
    from governance.audit.sequencer import latest_head
    from governance.audit.verification import (
        audit_verification_last_finished,
        audit_verification_latest,
    )

    context = {
        "form": form,
        "page": None,
        "head": latest_head(),
        "verification": audit_verification_latest(),
        "last_verified": audit_verification_last_finished(),
        "can_verify": can_start_audit_verification(request.user),
    }
    if request.method == "POST" and form.is_valid():
        filters = {k: v for k, v in form.cleaned_data.items() if k != "justification"}
        justification = form.cleaned_data["justification"].strip()
        exported = request.POST.get("format") == "csv"
        if not justification:
            form.add_error("justification", "Say why you are consulting the audit log; it is recorded.")
        else:
            events = audit_events_search(user=request.user, **filters)
            # Every page read is recorded (a "page 2" request is a consultation like any other).
            audit_log_consult(user=request.user, filters=filters, justification=justification, exported=exported)
            if exported:
                return _audit_csv(events)
            context["page"] = Paginator(events, 50).get_page(request.POST.get("page"))
    elif not can_read_audit_log(request.user):
        raise PermissionRefused("Your role cannot read the audit log.")
    return render(request, "governance/audit_log.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _audit_csv(events) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    header = [
        "sequence",
        "occurred_at",
        "action",
        "event",
        "actor",
        "organisation",
        "justification",
        "recipient",
        "target_type",
        "target_id",
        "target",
        "chain_hash",
    ]

    def rows():
        yield writer.writerow(header)
        for e in events.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    e.sequence,
                    e.occurred_at.isoformat(),
                    e.action,
                    e.event,
                    e.actor_username,
                    e.actor_organisation,
                    e.justification,
                    e.recipient,
                    e.target_type,
                    e.target_id,
                    e.target_label,
                    e.chain_hash,
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="oversight-audit-log.csv"'
    return response
