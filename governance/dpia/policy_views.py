"""The appropriate policy document pages (DPA 2018 s.42). Thin: parse → access → one service → render."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from governance.access import agreement_party_ids, agreements_visible_to, record_history
from governance.agreements.models import Schedule8Condition
from governance.dpia import policy_services as policies
from governance.dpia.forms import DateInput
from governance.dpia.models import PolicyDocument, PolicyStatus
from governance.dpia.policy_access import (
    can_draft_policy,
    can_policy,
    can_read_policies,
    policies_visible_to,
    policy_for,
)
from governance.dpia.rules import policy_erasure_due_on, policy_review_warning
from governance.errors import ApplicationError, PermissionRefused, ValidationFailed
from governance.web.errors import refusal_messages, refusals_as_pages, refusals_back_to


class PolicyForm(forms.ModelForm):
    schedule8_conditions = forms.MultipleChoiceField(
        choices=Schedule8Condition.choices,
        widget=forms.CheckboxSelectMultiple,
        label="Schedule 8 conditions relied on",
    )
    agreements = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    change_summary = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="What changes, and why (editing an approved version makes a new version)",
    )

    class Meta:
        model = PolicyDocument
        fields = list(policies.POLICY_FIELDS)
        widgets = {
            "review_on": DateInput(),
            "compliance_procedures": forms.Textarea(attrs={"rows": 4}),
            "retention_policy": forms.Textarea(attrs={"rows": 4}),
            "processing_description": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, agreement_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agreements"].choices = agreement_choices
        if self.instance.pk:
            self.initial["agreements"] = [str(a.pk) for a in self.instance.agreements.all()]


def _agreement_choices(user, controller_id: int) -> list[tuple[str, str]]:
    return [
        (str(a.pk), f"{a.reference} v{a.version} — {a.title}")
        for a in agreements_visible_to(user).exclude(status="superseded")
        if controller_id in agreement_party_ids(a)
    ]


def _split(cleaned: dict) -> tuple[dict, list[int], str]:
    fields = {name: cleaned[name] for name in policies.POLICY_FIELDS}
    return fields, [int(v) for v in cleaned.get("agreements") or []], cleaned.get("change_summary", "")


@login_required
@refusals_as_pages
def policy_list(request: HttpRequest) -> HttpResponse:
    if not can_read_policies(request.user):
        raise PermissionRefused("Your role does not read appropriate policy documents.")
    rows = [(p, policy_review_warning(p)) for p in policies_visible_to(request.user).order_by("reference", "-version")]
    return render(request, "dpia/policy_list.html", {"rows": rows, "can_draft": can_draft_policy(request.user)})


@login_required
@refusals_as_pages
def policy_create(request: HttpRequest) -> HttpResponse:
    if not can_draft_policy(request.user):
        raise PermissionRefused("Only a data protection officer of a controller can write a policy document.")
    form = PolicyForm(
        request.POST or None, agreement_choices=_agreement_choices(request.user, request.user.organisation_id)
    )
    if request.method == "POST" and form.is_valid():
        fields, agreement_ids, _ = _split(form.cleaned_data)
        try:
            policy = policies.policy_draft(actor=request.user, fields=fields, agreement_ids=agreement_ids)
        except ApplicationError as error:
            refusal_messages(request, error)
        else:
            messages.success(request, f"{policy.reference} drafted.")
            return redirect("policy-detail", pk=policy.pk)
    return render(request, "dpia/policy_form.html", {"form": form, "policy": None})


@login_required
@refusals_as_pages
def policy_edit(request: HttpRequest, pk: int) -> HttpResponse:
    policy = policy_for(request.user, pk, to="change")
    form = PolicyForm(
        request.POST or None,
        instance=policy,
        agreement_choices=_agreement_choices(request.user, policy.controller_id),
    )
    if request.method == "POST" and form.is_valid():
        fields, agreement_ids, change_summary = _split(form.cleaned_data)
        try:
            written = policies.policy_edit(
                actor=request.user,
                policy=PolicyDocument.objects.get(pk=policy.pk),  # the form wrote onto ``policy``
                fields=fields,
                agreement_ids=agreement_ids,
                change_summary=change_summary,
            )
        except ApplicationError as error:
            refusal_messages(request, error)
        else:
            messages.success(
                request, "Saved." if written.pk == policy.pk else f"Version {written.version} drafted with the changes."
            )
            return redirect("policy-detail", pk=written.pk)
    return render(request, "dpia/policy_form.html", {"form": form, "policy": policy})


@login_required
@refusals_as_pages
def policy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    policy = policy_for(user, pk)
    versions = policies_visible_to(user).filter(reference=policy.reference).order_by("version")
    history = record_history("governance.policydocument", list(versions))
    return render(
        request,
        "dpia/policy_detail.html",
        {
            "policy": policy,
            "can": {to: can_policy(user, policy, to) for to in ("change", "approve", "end")},
            "versions": versions,
            "history": history,
            "warning": policy_review_warning(policy),
            "gaps": policies.policy_approval_gaps(policy) if policy.status == PolicyStatus.DRAFT else [],
            "erasure_due_on": policy_erasure_due_on(policy),
            "has_next": PolicyDocument.objects.filter(previous_version=policy).exists(),
        },
    )


@login_required
@require_POST
@refusals_as_pages
@refusals_back_to("policy-detail", with_details=True)
def policy_action(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    policy = policy_for(user, pk)
    action = request.POST.get("action", "")
    if action == "approve":
        policies.policy_approve(actor=user, policy=policy)
        messages.success(request, "Approved for the controller.")
    elif action == "end":
        field = forms.DateField(required=False)
        try:
            ended_on = field.clean(request.POST.get("ended_on", ""))
        except forms.ValidationError:
            raise ValidationFailed("Give the date the processing ended.", code="bad_date") from None
        policies.policy_record_processing_end(actor=user, policy=policy, ended_on=ended_on)
        messages.success(request, "End of the processing recorded." if ended_on else "End of the processing cleared.")
    else:
        messages.error(request, "Unknown action.")
    return redirect("policy-detail", pk=policy.pk)
