"""Forms for the subject request pages: they parse and clean input; the services write."""

from __future__ import annotations

from django import forms

from governance.presentation.widgets import DateInput
from governance.subject_access.models import FeeGround, PauseReason, Regime, RestrictionBasis, SubjectRight


class IntakeForm(forms.Form):
    regime = forms.ChoiceField(choices=Regime.choices)
    right = forms.ChoiceField(choices=SubjectRight.choices, label="Right exercised")
    requester_name = forms.CharField(max_length=200)
    requester_contact = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    acting_for_subject = forms.CharField(max_length=200, required=False, label="Acting for the subject (if not them)")
    request_text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10000, label="The request")
    subject_references = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=3000, help_text="One per line."
    )
    case_references = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=3000, help_text="One per line."
    )
    received_on = forms.DateField(widget=DateInput())
    awaiting_identity = forms.BooleanField(required=False, label="Proof of identity still awaited (clock stopped)")
    identity_verified_how = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000, label="How identity was verified"
    )
    identity_verified_by_name = forms.CharField(max_length=200, required=False, label="Verified by")
    identity_verified_on = forms.DateField(widget=DateInput(), required=False)


class StopClockForm(forms.Form):
    reason = forms.ChoiceField(choices=PauseReason.choices, label="What is asked for")
    on = forms.DateField(widget=DateInput(), label="Asked on")
    fee_ground = forms.ChoiceField(
        choices=[("", "— (no fee)")] + FeeGround.choices, required=False, label="Why a fee may be charged"
    )
    note = forms.CharField(required=False, max_length=2000)


class RestartClockForm(forms.Form):
    on = forms.DateField(widget=DateInput())
    identity_verified_how = forms.CharField(required=False, max_length=2000)
    identity_verified_by_name = forms.CharField(required=False, max_length=200)


class ExtendForm(forms.Form):
    months = forms.TypedChoiceField(choices=[(1, "1 month"), (2, "2 months")], coerce=int)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)
    requester_told_on = forms.DateField(widget=DateInput(), required=False)


class RestrictItemForm(forms.Form):
    item = forms.IntegerField()
    basis = forms.ChoiceField(choices=RestrictionBasis.choices)
    reason = forms.CharField(max_length=2000, required=False)
    neither_confirm_nor_deny = forms.BooleanField(required=False)


class SearchForm(forms.Form):
    justification = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)
    subject_references = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=3000)
    case_references = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=3000)
    photo = forms.FileField(required=False, label="The requester's photo (search by face)")
