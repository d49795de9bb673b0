"""The public door's forms: plain words, every field labelled, uploads optional but size-checked
before they are read (the service checks them again as images)."""

from __future__ import annotations

from django import forms

from governance.subject_access.door.services import MAX_NAME, MAX_TEXT


class _Honeypot(forms.TextInput):
    """A field people never see (hidden from sight and from screen readers); bots fill it in."""

    def __init__(self):
        super().__init__(attrs={"tabindex": "-1", "autocomplete": "off"})


class DoorRequestForm(forms.Form):
    right = forms.ChoiceField(label="What do you want to do?", widget=forms.RadioSelect)
    requester_name = forms.CharField(label="Your full name", max_length=MAX_NAME)
    email = forms.EmailField(
        label="Your e-mail address", help_text="We send your reference, any questions and the response here."
    )
    acting_for_subject = forms.CharField(
        label="Asking for someone else? Say who, and your authority to act for them (optional)",
        max_length=MAX_NAME,
        required=False,
    )
    request_text = forms.CharField(
        label="What are you asking for?",
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="For example: where and when you think cameras may have recorded you.",
    )
    photo = forms.FileField(
        label="A recent photo of your face (optional)",
        required=False,
        help_text="Used only to search for your face in what we hold. JPEG, PNG or WebP.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    identity = forms.FileField(
        label="A photo of a document that proves who you are (optional now, needed before we answer)",
        required=False,
        help_text="A passport, driving licence or identity card. JPEG, PNG or WebP.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    website = forms.CharField(label="Leave this empty", required=False, widget=_Honeypot())

    def __init__(self, *args, rights=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["right"].choices = rights


class DoorAnswerForm(forms.Form):
    reference = forms.CharField(label="Your reference", max_length=40, help_text="For example SAR-2026-0012.")
    code = forms.CharField(
        label="Your one-time code",
        max_length=12,
        help_text="The 8 digits in the e-mail that asked you for more.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    text = forms.CharField(
        label="Your answer", max_length=MAX_TEXT, required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    identity = forms.FileField(
        label="A photo of a document that proves who you are (if you were asked for one)",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )


class DoorNewCodeForm(forms.Form):
    reference = forms.CharField(label="Your reference", max_length=40)
    email = forms.EmailField(label="The e-mail address you gave with your request")


class DoorCodeForm(forms.Form):
    code = forms.CharField(
        label="Your one-time code",
        max_length=12,
        help_text="The 8 digits in the separate e-mail we sent with this link.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
