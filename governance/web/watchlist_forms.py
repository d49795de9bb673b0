"""The force submitter's web forms: an image with its provenance, and a withdrawal with its reason.

The form parses the fields (dates, choices, the file); every rule about the image and the agreement is the
service's (``governance.watchlist.services``), exactly as for the API: the same refusals, the same codes.
"""

from __future__ import annotations

from django import forms

from governance.access import agreements_visible_to
from governance.agreements.models import Agreement, AgreementStatus, CustodyCategory, Schedule8Condition, Section35Basis
from governance.agreements.rules import APP_WATCHLIST_CATEGORIES
from governance.presentation.widgets import DateInput
from governance.watchlist.models import TransferChannel
from governance.watchlist.services import Provenance


def agreements_to_upload_under(actor):
    """Active agreements the actor's force or unit supplies under (a unit uploads under its force's)."""
    organisation = actor.organisation
    suppliers = [organisation.pk] + ([organisation.parent_id] if organisation.parent_id else [])
    return (
        agreements_visible_to(actor)
        .filter(status=AgreementStatus.ACTIVE, supplying_organisation_id__in=suppliers)
        .order_by("reference", "version")
    )


class AgreementChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Agreement) -> str:
        return f"{obj.reference} v{obj.version} — {obj.title}"


class ProvenanceForm(forms.Form):
    agreement = AgreementChoiceField(queryset=Agreement.objects.none(), empty_label="Choose…")
    subject_reference = forms.CharField(
        max_length=64, label="Subject reference", help_text="Pseudonymous subject reference; never a name."
    )
    custody_category = forms.ChoiceField(
        label="Custody category",
        choices=[("", "Choose…")]
        + [(value, label) for value, label in CustodyCategory.choices if value in APP_WATCHLIST_CATEGORIES],
    )
    custody_reference = forms.CharField(max_length=120, label="Custody record or case reference")
    image_taken_on = forms.DateField(label="Date the image was taken", widget=DateInput())
    shared_on = forms.DateField(label="Date shared (today if empty)", widget=DateInput(), required=False)
    legal_basis = forms.ChoiceField(label="DPA 2018 s.35 basis", choices=[("", "Choose…")] + Section35Basis.choices)
    schedule8_condition = forms.ChoiceField(
        label="Schedule 8 condition (the agreement's if empty)",
        choices=[("", "The agreement's condition")] + Schedule8Condition.choices,
        required=False,
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agreement"].queryset = agreements_to_upload_under(actor)

    def provenance(self) -> Provenance:
        data = self.cleaned_data
        return Provenance(
            subject_reference=data["subject_reference"],
            custody_category=data["custody_category"],
            custody_reference=data["custody_reference"],
            image_taken_on=data["image_taken_on"],
            shared_on=data.get("shared_on"),
            legal_basis=data["legal_basis"],
            schedule8_condition=data.get("schedule8_condition") or "",
            transfer_channel=TransferChannel.WEB,
            notes=data.get("notes") or "",
        )


class WatchlistUploadForm(ProvenanceForm):
    image = forms.FileField(label="Image (JPEG, PNG or WebP)", help_text="EXIF and other metadata are removed.")

    field_order = ["agreement", "image"]


class WithdrawalForm(forms.Form):
    reason = forms.CharField(
        label="Reason for the withdrawal (kept on the deletion certificate)",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name (Django's documented pattern): a list of uploads."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single_file_clean = super().clean
        if isinstance(data, (list, tuple)):
            return [single_file_clean(one, initial) for one in data]
        return [single_file_clean(data, initial)]


class BulkUploadForm(ProvenanceForm):
    """Several images under one agreement with the provenance they share; each file's own references in the
    manifest, one line per file: ``file name, subject reference, custody reference``."""

    images = MultipleFileField(label="Images (JPEG, PNG or WebP; several)")
    manifest = forms.CharField(
        label="One line per file: file name, subject reference, custody reference",
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=20_000,
    )

    field_order = ["agreement", "images", "manifest"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["subject_reference"], self.fields["custody_reference"]

    def clean_manifest(self) -> dict[str, tuple[str, str]]:
        rows: dict[str, tuple[str, str]] = {}
        for number, line in enumerate(self.cleaned_data["manifest"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split(",")]
            if len(parts) != 3 or not all(parts):
                raise forms.ValidationError(
                    f"Line {number}: give the file name, the subject reference and the custody reference, "
                    "separated by commas."
                )
            rows[parts[0]] = (parts[1], parts[2])
        return rows

    def provenance_for(self, name: str) -> Provenance | None:
        """The file's provenance: the shared fields with its manifest line's references (None: no line)."""
        references = self.cleaned_data["manifest"].get(name)
        if references is None:
            return None
        self.cleaned_data["subject_reference"], self.cleaned_data["custody_reference"] = references
        return self.provenance()
