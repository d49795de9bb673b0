"""The breach register's pages. Thin: form → one service → redirect; reads through ``breaches_visible_to``."""

from __future__ import annotations

import csv

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from governance.access import agreement_for, agreement_party_ids, agreements_visible_to
from governance.breaches import services
from governance.breaches.access import (
    breach_for,
    breaches_visible_to,
    can_change_breach,
    can_read_breaches,
    can_record_breach,
)
from governance.breaches.models import Breach, NotToldGround
from governance.breaches.rules import (
    art33_missing,
    breach_commissioner_clock,
    breach_party_clock,
    breach_subjects_state,
)
from governance.errors import ApplicationError
from governance.web.errors import refusals_as_pages

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"})


class BreachForm(forms.ModelForm):
    class Meta:
        model = Breach
        fields = list(services.FIELDS)
        widgets = {"occurred_at": DATETIME, "discovered_at": DATETIME}


class CommissionerForm(forms.Form):
    notified_at = forms.DateTimeField(widget=DATETIME)
    reference = forms.CharField(max_length=120)
    delay_reason = forms.CharField(widget=forms.Textarea, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea)


class SubjectsForm(forms.Form):
    notified_at = forms.DateTimeField(widget=DATETIME, required=False)
    how = forms.CharField(required=False)
    not_told_ground = forms.ChoiceField(
        choices=[("", "— (they were told)")] + NotToldGround.choices, required=False, label="Not told: the ground"
    )
    not_told_reason = forms.CharField(widget=forms.Textarea, required=False, label="Why the ground applies")


class ContentsForm(forms.ModelForm):
    class Meta:
        model = Breach
        fields = list(services.CONTENT_FIELDS)


class ShareForm(forms.Form):
    agreement = forms.IntegerField()


class PartyToldForm(forms.Form):
    party = forms.IntegerField()
    told_at = forms.DateTimeField(widget=DATETIME)
    how = forms.CharField()


def _shareable_agreements(user, breach: Breach):
    """Agreements the recorder can see and is a party to: the other side may be told."""
    return [
        a
        for a in agreements_visible_to(user).order_by("reference", "-version")
        if breach.organisation_id in agreement_party_ids(a)
    ]


def _rows(breaches):
    return [(b, breach_commissioner_clock(b), breach_subjects_state(b)) for b in breaches]


def _initial_contact(user) -> dict:
    """Art. 33(3)(b): the DPO's name and contact details, offered from the recorder's own."""
    organisation = user.organisation
    email = (organisation.contact_email if organisation else "") or user.email
    return {"dpo_contact": f"{user.get_full_name() or user.username}, data protection officer, {organisation}, {email}"}


@login_required
@refusals_as_pages
def breach_register(request: HttpRequest) -> HttpResponse:
    if not can_read_breaches(request.user):
        return render(request, "errors/403.html", {"message": "Your role cannot read the breach register."}, status=403)
    breaches = breaches_visible_to(request.user)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="breach-register.csv"'
        writer = csv.writer(response)
        writer.writerow(
            [
                "Reference",
                "Organisation",
                "Title",
                "Discovered",
                "Risk",
                "People affected",
                "Commissioner",
                "People told",
            ]
        )
        for b, clock, subjects in _rows(breaches):
            writer.writerow(
                [
                    b.reference,
                    b.organisation.name,
                    b.title,
                    b.discovered_at.isoformat(),
                    b.get_risk_display(),
                    b.people_affected if b.people_affected is not None else "",
                    clock.text,
                    subjects,
                ]
            )
        return response
    form = (
        BreachForm(request.POST or None, initial=_initial_contact(request.user))
        if can_record_breach(request.user)
        else None
    )
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            breach = services.breach_record(actor=request.user, fields=form.cleaned_data)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            return redirect("breach-detail", pk=breach.pk)
    return render(request, "breaches/register.html", {"rows": _rows(breaches[:200]), "form": form})


@login_required
@refusals_as_pages
def breach_detail(request: HttpRequest, pk: int) -> HttpResponse:
    breach = breach_for(request.user, pk)
    can_change = can_change_breach(request.user, breach)
    parties = [
        (party, breach_party_clock(party)) for party in breach.parties.select_related("agreement", "organisation")
    ]
    return render(
        request,
        "breaches/detail.html",
        {
            "breach": breach,
            "clock": breach_commissioner_clock(breach),
            "subjects": breach_subjects_state(breach),
            "art33_missing": art33_missing(breach),
            "parties": parties,
            "can_change": can_change,
            "shareable": _shareable_agreements(request.user, breach) if can_change else [],
            "commissioner_form": CommissionerForm(),
            "reason_form": ReasonForm(),
            "subjects_form": SubjectsForm(),
            "contents_form": ContentsForm(instance=breach) if can_change else None,
        },
    )


@login_required
@require_POST
@refusals_as_pages
def breach_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    breach = breach_for(request.user, pk, to="change")
    form_class = {
        "commissioner": CommissionerForm,
        "not-notified": ReasonForm,
        "subjects": SubjectsForm,
        "contents": ContentsForm,
        "share": ShareForm,
        "party-told": PartyToldForm,
    }.get(action)
    if form_class is None:
        return redirect("breach-detail", pk=pk)
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, "Check the form: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
        return redirect("breach-detail", pk=pk)
    data = form.cleaned_data
    try:
        if action == "commissioner":
            services.breach_commissioner_notified(
                actor=request.user,
                breach=breach,
                notified_at=data["notified_at"],
                reference=data["reference"],
                delay_reason=data["delay_reason"],
            )
        elif action == "not-notified":
            services.breach_commissioner_not_notified(actor=request.user, breach=breach, reason=data["reason"])
        elif action == "contents":
            services.breach_contents_complete(actor=request.user, breach=breach, fields=data)
        elif action == "share":
            agreement = agreement_for(request.user, data["agreement"])
            services.breach_share(actor=request.user, breach=breach, agreement=agreement)
        elif action == "party-told":
            party = breach.parties.filter(pk=data["party"]).first()
            if party is None:
                messages.error(request, "No such party to this breach.")
                return redirect("breach-detail", pk=pk)
            services.breach_party_told(
                actor=request.user, breach=breach, party=party, told_at=data["told_at"], how=data["how"]
            )
        else:
            services.breach_subjects_informed(
                actor=request.user,
                breach=breach,
                notified_at=data["notified_at"],
                how=data["how"],
                not_told_ground=data["not_told_ground"],
                not_told_reason=data["not_told_reason"],
            )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Recorded.")
    return redirect("breach-detail", pk=pk)
