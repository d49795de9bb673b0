"""Administration forms. Choices are pickers limited to what the administrator administers."""

from __future__ import annotations

from django import forms

from governance.administration.access import administered_organisation_ids
from governance.api.tokens import MAX_TOKEN_DAYS
from governance.organisations.models import Organisation, User
from governance.organisations.roles import Role


class InviteForm(forms.Form):
    organisation = forms.ModelChoiceField(queryset=Organisation.objects.none(), empty_label=None)
    username = forms.CharField(max_length=150, help_text="What they sign in with: letters, digits and @ . + - _ only.")
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)
    job_title = forms.CharField(max_length=120, required=False)
    roles = forms.MultipleChoiceField(choices=Role.choices, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.filter(
            pk__in=administered_organisation_ids(actor)
        ).order_by("parent_id", "name")
        self.fields["organisation"].initial = actor.organisation_id


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class SetPasswordForm(forms.Form):
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        max_length=200,
        help_text="At least 12 characters; not a common password, not all digits, not like your name.",
    )
    password_again = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), max_length=200, label="Password again"
    )

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("password")
            and cleaned.get("password_again")
            and cleaned["password"] != cleaned["password_again"]
        ):
            self.add_error("password_again", "The two passwords differ.")
        return cleaned


class TokenIssueForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        label="Service account",
        help_text="An account of the force or unit holding the force submitter role; everything done with the "
        "token is done as this account.",
    )
    new_account = forms.CharField(
        max_length=150,
        required=False,
        label="Or a new service account",
        help_text="A username for a new service account (given the force submitter role).",
    )
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.none(),
        required=False,
        label="New account's force or unit",
    )
    days = forms.IntegerField(min_value=1, max_value=MAX_TOKEN_DAYS, initial=90, label="Valid for (days)")
    label = forms.CharField(max_length=120, required=False, help_text="What the token is for, e.g. 'custody system'.")

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        ids = administered_organisation_ids(actor)
        police = Organisation.objects.filter(pk__in=ids, kind__in=["police_force", "police_unit"])
        self.fields["organisation"].queryset = police.order_by("parent_id", "name")
        self.fields["user"].queryset = (
            User.objects.filter(organisation__in=police, is_active=True, groups__name=Role.FORCE_SUBMITTER.group_name)
            .select_related("organisation")
            .order_by("organisation__name", "username")
            .distinct()
        )
        self.fields["user"].label_from_instance = lambda u: f"{u.username} — {u.organisation}"

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("user") and not cleaned.get("new_account"):
            self.add_error("user", "Choose a service account, or name a new one below.")
        if cleaned.get("user") and cleaned.get("new_account"):
            self.add_error("new_account", "Either choose an account or name a new one, not both.")
        if cleaned.get("new_account") and not cleaned.get("organisation"):
            self.add_error("organisation", "Choose the force or unit the new account acts for.")
        return cleaned
