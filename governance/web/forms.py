from django import forms

from governance.agreements.models import Agreement, CustodyCategory
from governance.agreements.rules import (
    APP_WATCHLIST_CATEGORIES,
    EDITABLE_FIELDS,
    agreement_date_problems,
    retention_term_problems,
)
from governance.organisations.models import Organisation, OrganisationKind
from governance.presentation.widgets import DateInput


class AgreementForm(forms.ModelForm):
    permitted_custody_categories = forms.MultipleChoiceField(
        # The APP categories only: the 2016 custody categories remain on the historical records alone.
        choices=[(value, label) for value, label in CustodyCategory.choices if value in APP_WATCHLIST_CATEGORIES],
        widget=forms.CheckboxSelectMultiple,
        help_text="Who may be on the watchlist under this agreement (College of Policing APP categories).",
    )

    class Meta:
        model = Agreement
        fields = list(EDITABLE_FIELDS)
        widgets = {
            "starts_on": DateInput(),
            "ends_on": DateInput(),
            "review_on": DateInput(),
            **{
                name: forms.Textarea(attrs={"rows": 3})
                for name in (
                    "purpose",
                    "data_items",
                    "special_category_data",
                    "individual_rights",
                    "security_measures",
                    "breach_handling",
                    "termination_terms",
                    "sanctions",
                )
            },
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supplying_organisation"].queryset = Organisation.objects.filter(
            kind__in=[OrganisationKind.POLICE_FORCE, OrganisationKind.POLICE_UNIT]
        )
        self.fields["receiving_organisation"].queryset = Organisation.objects.filter(kind=OrganisationKind.OPERATOR)

    def validate_unique(self):
        """Uniqueness of (reference, version) is the service's business."""

    def clean_max_images(self):
        # On the field, in words (the database constraint agreement_max_images_positive backs it).
        value = self.cleaned_data.get("max_images")
        if value is not None and value < 1:
            raise forms.ValidationError("An agreement allows at least one image.")
        return value

    def clean(self):
        cleaned = super().clean()
        # Errors on the date fields themselves (the database constraint would otherwise speak, by name).
        for problem in agreement_date_problems(
            starts_on=cleaned.get("starts_on"), ends_on=cleaned.get("ends_on"), review_on=cleaned.get("review_on")
        ):
            self.add_error(problem.field, problem.message)
        # The retention bounds (31 days, 24 hours; longer only as the supplying force's DPO approved).
        for problem in retention_term_problems(
            self.instance,
            match_retention_days=cleaned.get("match_retention_days"),
            watchlist_erasure_hours=cleaned.get("watchlist_erasure_hours"),
        ):
            if problem.field in cleaned:
                self.add_error(problem.field, problem.message)
        return cleaned


class RetentionExtensionForm(forms.Form):
    """The supplying force's DPO approves a longer retention term, with the reason."""

    match_retention_days = forms.IntegerField(required=False, min_value=1, label="Alert retention (days)")
    watchlist_erasure_hours = forms.IntegerField(
        required=False, min_value=1, label="Watchlist erasure after a deployment ends (hours)"
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="Why the longer term is needed.")


class RegulatorNotificationForm(forms.Form):
    notified_on = forms.DateField(widget=DateInput())
    reference = forms.CharField(max_length=120)
    notified_by = forms.CharField(max_length=200, help_text="Who sent the notification.")
    regulator = forms.ModelChoiceField(
        queryset=Organisation.objects.filter(kind=OrganisationKind.REGULATOR),
        help_text="The regulator told: it then sees the agreement among its notifications.",
    )

    def clean_notified_on(self):
        from django.utils import timezone

        value = self.cleaned_data["notified_on"]
        if value > timezone.localdate():
            raise forms.ValidationError("The notification date cannot be in the future.")
        return value


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class AmendForm(forms.Form):
    summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label="What the amendment changes"
    )


class RenewForm(forms.Form):
    starts_on = forms.DateField(widget=DateInput())
    ends_on = forms.DateField(widget=DateInput())
    review_on = forms.DateField(widget=DateInput())

    def clean(self):
        cleaned = super().clean()
        for problem in agreement_date_problems(
            starts_on=cleaned.get("starts_on"), ends_on=cleaned.get("ends_on"), review_on=cleaned.get("review_on")
        ):
            self.add_error(problem.field, problem.message)
        return cleaned


class SignedDocumentForm(forms.Form):
    document = forms.FileField(help_text="The signed agreement, as a PDF.")


class AuditSearchForm(forms.Form):
    text = forms.CharField(required=False, label="Search")
    action = forms.ChoiceField(required=False, choices=[("", "Any s.62 action")])
    date_from = forms.DateField(required=False, widget=DateInput())
    date_to = forms.DateField(required=False, widget=DateInput())
    justification = forms.CharField(
        required=False,
        max_length=500,
        help_text="Why you are consulting the log (recorded: DPA 2018 s.62 consultation).",
    )

    def __init__(self, *args, **kwargs):
        from governance.audit.models import AuditAction

        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "Any s.62 action"), *AuditAction.choices]
