"""The DPIA pages. Thin: parse the form → access / selector → one service → render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from governance.access import agreement_party_ids, agreements_visible_to, record_history
from governance.dpia import selectors
from governance.dpia import services as dpias
from governance.dpia.access import can_dpia, can_draft_dpia, can_read_dpias, dpia_for
from governance.dpia.documents import dpia_render_pdf
from governance.dpia.forms import (
    AgreementsForm,
    ApproveForm,
    ConsultationForm,
    CoverDeploymentForm,
    DPIASectionsForm,
    ReasonForm,
    ReviseForm,
    RiskForm,
)
from governance.dpia.models import DPIAStatus
from governance.dpia.policy_access import can_read_policies
from governance.dpia.rules import (
    dpia_in_force_problem,
    dpia_review_warning,
    dpia_submission_gaps,
    prior_consultation_required,
)
from governance.errors import ApplicationError, NotFound, PermissionRefused
from governance.inputs import is_id, optional_id, parse_id
from governance.web.errors import refusal_messages, refusals_as_pages, refusals_back_to


def _agreement_choices(user, dpia) -> list[tuple[str, str]]:
    return [
        (str(a.pk), f"{a.reference} v{a.version} — {a.title} ({a.get_status_display()})")
        for a in agreements_visible_to(user).exclude(status="superseded")
        if dpia.controller_id in agreement_party_ids(a)
    ]


def _deployment_choices(user) -> list[tuple[int, str]]:
    return [(f.pk, f"{f.reference} — {f.name}") for f in selectors.deployment_candidates(user=user)]


@login_required
@refusals_as_pages
def dpia_list(request: HttpRequest) -> HttpResponse:
    if not can_read_dpias(request.user):
        raise PermissionRefused("Your role does not read DPIAs.")
    status = request.GET.get("status", "")
    return render(
        request,
        "dpia/dpia_list.html",
        {
            "dpias": selectors.dpia_list(user=request.user, status=status),
            "statuses": DPIAStatus.choices,
            "status": status,
            "can_draft": can_draft_dpia(request.user),
            "can_read_policies": can_read_policies(request.user),
        },
    )


@login_required
@refusals_as_pages
def dpia_create(request: HttpRequest) -> HttpResponse:
    if not can_draft_dpia(request.user):
        raise PermissionRefused("Only a data protection officer of a controller can write a DPIA.")
    form = DPIASectionsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            dpia = dpias.dpia_draft(actor=request.user, fields=form.cleaned_data)
        except ApplicationError as error:
            refusal_messages(request, error)
        else:
            messages.success(request, f"{dpia.reference} drafted. Add what it covers and its risks.")
            return redirect("dpia-detail", pk=dpia.pk)
    return render(request, "dpia/dpia_form.html", {"form": form, "dpia": None})


@login_required
@refusals_as_pages
def dpia_edit(request: HttpRequest, pk: int) -> HttpResponse:
    dpia = dpia_for(request.user, pk, to="change")
    form = DPIASectionsForm(request.POST or None, instance=dpia)
    if request.method == "POST" and form.is_valid():
        try:
            dpias.dpia_update(actor=request.user, dpia=dpia, fields=form.cleaned_data)
        except ApplicationError as error:
            refusal_messages(request, error)
        else:
            messages.success(request, "Sections saved.")
            return redirect("dpia-detail", pk=dpia.pk)
    return render(request, "dpia/dpia_form.html", {"form": form, "dpia": dpia})


@login_required
@refusals_as_pages
def dpia_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    dpia = dpia_for(user, pk)
    versions = selectors.dpia_versions(user=user, dpia=dpia)
    history = record_history("governance.dpia", list(versions))
    can = {to: can_dpia(user, dpia, to) for to in ("change", "submit", "approve", "reject", "revise", "consult")}
    return render(
        request,
        "dpia/dpia_detail.html",
        {
            "dpia": dpia,
            "can": can,
            "versions": versions,
            "history": history,
            "matrix": selectors.risk_matrix(dpia),
            "risks": list(dpia.risks.all()),
            "deployments": selectors.deployment_facts(dpia),
            "running_weights": selectors.running_weights(),
            "evidence_curve": selectors.evidence_curve(),
            "gaps": dpia_submission_gaps(dpia) if dpia.status == DPIAStatus.DRAFT else [],
            "needs_consultation": prior_consultation_required(dpia),
            "in_force_problem": dpia_in_force_problem(dpia) if dpia.status == DPIAStatus.APPROVED else None,
            "warning": dpia_review_warning(dpia),
            "risk_form": RiskForm(),
            "consultation_form": ConsultationForm(),
            "reason_form": ReasonForm(),
            "revise_form": ReviseForm(),
            "approve_form": ApproveForm(initial={"capacity": user.job_title}),
            "agreements_form": AgreementsForm(
                choices=_agreement_choices(user, dpia) if can["change"] else [],
                initial={"agreements": [str(a.pk) for a in dpia.agreements.all()]},
            ),
            "deployment_form": CoverDeploymentForm(choices=_deployment_choices(user) if can["change"] else []),
        },
    )


@login_required
@require_POST
@refusals_as_pages
@refusals_back_to("dpia-detail", with_details=True)
def dpia_action(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    dpia = dpia_for(user, pk)
    action = request.POST.get("action", "")
    target = dpia
    if action == "submit":
        dpias.dpia_submit(actor=user, dpia=dpia)
        messages.success(request, "Sent for review.")
    elif action == "approve":
        form = ApproveForm(request.POST)
        form.is_valid()
        dpias.dpia_approve(actor=user, dpia=dpia, capacity=form.cleaned_data.get("capacity", ""))
        messages.success(request, "Approved and signed off for the controller.")
    elif action == "reject":
        form = ReasonForm(request.POST)
        dpias.dpia_reject(actor=user, dpia=dpia, reason=form.data.get("reason", ""))
        messages.success(request, "Rejected.")
    elif action == "revise":
        target = dpias.dpia_revise(actor=user, dpia=dpia, change_summary=request.POST.get("change_summary", ""))
        messages.success(request, f"Version {target.version} drafted from version {dpia.version}.")
    elif action == "consult":
        form = ConsultationForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Give the consultation's date, reference and outcome.")
        else:
            dpias.dpia_record_prior_consultation(actor=user, dpia=dpia, **form.cleaned_data)
            messages.success(request, "Prior consultation recorded.")
    elif action == "risk_add":
        form = RiskForm(request.POST)
        if not form.is_valid():
            messages.error(request, "The risk needs every field: " + ", ".join(form.errors))
        else:
            dpias.dpia_risk_add(actor=user, dpia=dpia, fields=form.cleaned_data)
            messages.success(request, "Risk added.")
    elif action == "risk_remove":
        risk = dpia.risks.filter(pk=optional_id(request.POST.get("risk"), "risk")).first()
        if risk is None:
            raise NotFound("No such risk.")
        dpias.dpia_risk_remove(actor=user, risk=risk)
        messages.success(request, "Risk removed.")
    elif action == "agreements":
        ids = [int(v) for v in request.POST.getlist("agreements") if is_id(v)]
        dpias.dpia_set_agreements(actor=user, dpia=dpia, agreement_ids=ids)
        messages.success(request, "Agreements covered updated.")
    elif action == "deployment":
        form = CoverDeploymentForm(request.POST, choices=_deployment_choices(user))
        if not form.is_valid():
            messages.error(request, "Choose a deployment and give the evidence and the monitoring plan.")
        else:
            dpias.dpia_cover_deployment(
                actor=user,
                dpia=dpia,
                deployment_id=form.cleaned_data["deployment"],
                demographic_evidence=form.cleaned_data["demographic_evidence"],
                monitoring_plan=form.cleaned_data["monitoring_plan"],
            )
            messages.success(request, "Deployment covered, with the engine's measured figures.")
    elif action == "deployment_remove":
        dpias.dpia_uncover_deployment(
            actor=user, dpia=dpia, deployment_id=parse_id(request.POST.get("deployment", ""), "deployment")
        )
        messages.success(request, "Deployment removed.")
    else:
        messages.error(request, "Unknown action.")
    return redirect("dpia-detail", pk=target.pk)


@login_required
@refusals_as_pages
def dpia_compare(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    right = dpia_for(user, pk)
    versions = selectors.dpia_versions(user=user, dpia=right)
    other = request.GET.get("with") or (right.previous_version_id and str(right.previous_version_id))
    left = dpia_for(user, other) if other else right
    if left.reference != right.reference:
        raise NotFound("No such version of this DPIA.")
    if left.version > right.version:
        left, right = right, left
    return render(
        request,
        "dpia/dpia_compare.html",
        {"left": left, "right": right, "rows": selectors.dpia_compare(left, right), "versions": versions},
    )


@login_required
@refusals_as_pages
def dpia_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    dpia = dpia_for(request.user, pk)
    versions = selectors.dpia_versions(user=request.user, dpia=dpia)
    response = HttpResponse(dpia_render_pdf(dpia=dpia, versions=versions), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{dpia.reference}-v{dpia.version}.pdf"'
    return response
