"""Forms for the DPIA pages: they parse and clean input; the services write."""

from __future__ import annotations

from django import forms

from governance.dpia.models import DPIA, DPIARisk
from governance.dpia.services import EDITABLE_FIELDS, RISK_FIELDS
from governance.presentation.widgets import DateInput


class DPIASectionsForm(forms.ModelForm):
    dpo_advice_followed = forms.TypedChoiceField(
        label="Was the DPO's advice followed?",
        required=False,
        empty_value=None,
        choices=[("", "Not yet decided"), ("yes", "Yes"), ("no", "No")],
        coerce=lambda value: {"yes": True, "no": False}.get(value),
    )

    class Meta:
        model = DPIA
        fields = list(EDITABLE_FIELDS)
        widgets = {
            "review_on": DateInput(),
            # Every section written as prose; the title, the adviser's name and the yes/no answer stay one line.
            **{
                name: forms.Textarea(attrs={"rows": 3})
                for name in EDITABLE_FIELDS
                if name not in {"title", "review_on", "dpo_advice_by_name", "dpo_advice_followed"}
            },
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["dpo_advice_followed"] = {True: "yes", False: "no"}.get(self.instance.dpo_advice_followed, "")


class RiskForm(forms.ModelForm):
    class Meta:
        model = DPIARisk
        fields = list(RISK_FIELDS)
        widgets = {"description": forms.Textarea(attrs={"rows": 2}), "measures": forms.Textarea(attrs={"rows": 2})}


class AgreementsForm(forms.Form):
    agreements = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agreements"].choices = choices


class CoverDeploymentForm(forms.Form):
    deployment = forms.TypedChoiceField(coerce=int)
    demographic_evidence = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Evidence relied on for demographic performance at this threshold",
    )
    monitoring_plan = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Monitoring plan")

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deployment"].choices = choices


class ConsultationForm(forms.Form):
    consulted_on = forms.DateField(widget=DateInput(), label="Date of the consultation")
    reference = forms.CharField(max_length=120, label="Commissioner's reference")
    outcome = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Outcome / written advice")


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class ReviseForm(forms.Form):
    change_summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="What changes, and why")


class ApproveForm(forms.Form):
    capacity = forms.CharField(max_length=200, required=False, label="Signing for the controller as")
