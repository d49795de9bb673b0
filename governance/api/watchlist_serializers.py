"""Serializers of the watchlist API: input shapes (validated here, checked against the agreement by
the service) and the ledger's read shape. No writes here."""

from __future__ import annotations

import base64
import binascii
import json

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance.agreements.models import CustodyCategory, Schedule8Condition, Section35Basis
from governance.watchlist.models import (
    DeletionCertificate,
    ImageStatus,
    RejectionReason,
    TransferChannel,
    WatchlistImage,
)
from governance.watchlist.services import Provenance


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "number"},
        "minItems": 4,
        "maxItems": 4,
        "description": "Optional face box [x1, y1, x2, y2] in pixels naming the face to enrol "
        '(multipart: "x1,y1,x2,y2" or a JSON list).',
    }
)
class FaceBoxField(serializers.Field):
    default_error_messages = {"invalid": "A face box is four numbers: x1,y1,x2,y2."}

    def to_internal_value(self, data):
        if isinstance(data, str):
            text = data.strip()
            if not text:
                return None
            try:
                data = json.loads(text) if text.startswith("[") else [float(v) for v in text.split(",")]
            except (ValueError, TypeError):
                self.fail("invalid")
        if not isinstance(data, (list, tuple)) or len(data) != 4:
            self.fail("invalid")
        try:
            values = [float(v) for v in data]
        except (TypeError, ValueError):
            self.fail("invalid")
        if any(v != v or v in (float("inf"), float("-inf")) for v in values):
            self.fail("invalid")
        return values

    def to_representation(self, value):
        return value


class ProvenanceInputSerializer(serializers.Serializer):
    agreement = serializers.IntegerField(
        min_value=1, max_value=2**62, help_text="Id of the agreement the image is shared under."
    )
    subject_reference = serializers.CharField(max_length=64, help_text="Pseudonymous subject reference; never a name.")
    custody_category = serializers.ChoiceField(choices=CustodyCategory.choices)
    custody_reference = serializers.CharField(max_length=120, help_text="Custody record or case reference.")
    image_taken_on = serializers.DateField()
    shared_on = serializers.DateField(required=False, help_text="Defaults to today.")
    # Required, never defaulted: the force states the basis of every image it shares (College of Policing).
    legal_basis = serializers.ChoiceField(
        choices=Section35Basis.choices, help_text="DPA 2018 s.35 basis for sharing this image."
    )
    schedule8_condition = serializers.ChoiceField(
        choices=Schedule8Condition.choices, required=False, help_text="Defaults to the agreement's condition."
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    face_box = FaceBoxField(required=False, allow_null=True, default=None)

    def provenance(self) -> Provenance:
        data = self.validated_data
        return Provenance(
            subject_reference=data["subject_reference"],
            custody_category=data["custody_category"],
            custody_reference=data["custody_reference"],
            image_taken_on=data["image_taken_on"],
            shared_on=data.get("shared_on"),
            legal_basis=data["legal_basis"],
            schedule8_condition=data.get("schedule8_condition", ""),
            transfer_channel=TransferChannel.API,
            notes=data.get("notes", ""),
            face_box=data.get("face_box"),
        )


class WatchlistImageUploadSerializer(ProvenanceInputSerializer):
    image = serializers.FileField(
        allow_empty_file=True, help_text="JPEG, PNG or WebP; type sniffed from the bytes; EXIF is stripped."
    )


class Base64ImageField(serializers.CharField):
    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError("Not valid base64.") from None


class BulkItemSerializer(ProvenanceInputSerializer):
    image_base64 = Base64ImageField(help_text="The image bytes, base64-encoded.", trim_whitespace=True)


class BulkUploadSerializer(serializers.Serializer):
    items = serializers.ListField(
        child=serializers.DictField(),
        min_length=1,
        help_text="Each item: the fields of a single upload, with image_base64 for the bytes.",
    )


class DeletionCertificateSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeletionCertificate
        fields = [
            "id",
            "subject_type",
            "subject_id",
            "sha256",
            "reason",
            "rule",
            "erased_at",
            "erased_by_name",
            "run_id",
        ]
        read_only_fields = fields


class WatchlistImageSerializer(serializers.ModelSerializer):
    agreement_reference = serializers.CharField(source="agreement.reference", read_only=True)
    supplying_organisation = serializers.SlugRelatedField(slug_field="short_name", read_only=True)
    supplying_force = serializers.SlugRelatedField(slug_field="short_name", read_only=True)
    # Blank unless rejected (a read-only model field would be documented without "").
    rejection_reason = serializers.ChoiceField(choices=RejectionReason.choices, allow_blank=True, read_only=True)
    stage = serializers.ChoiceField(
        choices=["checking", *ImageStatus.values],
        read_only=True,
        help_text="The status as a force reads it: 'checking' while the worker has not yet decoded and cleaned the "
        "upload (no clean bytes yet), then the status.",
    )

    class Meta:
        model = WatchlistImage
        fields = [
            "id",
            "agreement",
            "agreement_reference",
            "supplying_organisation",
            "supplying_force",
            "subject_reference",
            "custody_category",
            "legal_basis",
            "schedule8_condition",
            "custody_reference",
            "image_taken_on",
            "shared_on",
            "transfer_channel",
            "notes",
            "submitted_by_name",
            "received_at",
            "sha256",
            "image_format",
            "width",
            "height",
            "face_box",
            "status",
            "stage",
            "rejection_reason",
            "rejection_message",
            "enrolled_at",
            "rejected_at",
            "withdrawn_at",
            "withdrawal_reason",
            "erased_at",
            "recorded_retrospectively",
        ]
        read_only_fields = fields


class WatchlistImageDetailSerializer(WatchlistImageSerializer):
    deletion_certificates = serializers.SerializerMethodField()

    class Meta(WatchlistImageSerializer.Meta):
        fields = [*WatchlistImageSerializer.Meta.fields, "deletion_certificates"]
        read_only_fields = fields

    @extend_schema_field(DeletionCertificateSerializer(many=True))
    def get_deletion_certificates(self, image) -> list[dict]:
        from governance.watchlist.selectors import image_certificates

        return DeletionCertificateSerializer(image_certificates(image=image), many=True).data


class BulkItemResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    ok = serializers.BooleanField()
    image = WatchlistImageSerializer(allow_null=True)
    error = serializers.DictField(allow_null=True)


class AcceptedImageSerializer(WatchlistImageSerializer):
    """The answer to an upload (202): the image as accepted, and where to poll it."""

    url = serializers.CharField(read_only=True, help_text="The image's URL (also in the Location header).")

    class Meta(WatchlistImageSerializer.Meta):
        fields = [*WatchlistImageSerializer.Meta.fields, "url"]
        read_only_fields = fields


class BulkStatusSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField(help_text="The bulk's results URL (also in the Location header of the 202).")
    created_at = serializers.DateTimeField()
    accepted = serializers.IntegerField(help_text="Files accepted at receipt (their images may still be checking).")
    refused = serializers.IntegerField(help_text="Files refused at receipt, each with its code.")
    checking = serializers.IntegerField(help_text="Accepted images the worker has not yet decoded.")
    complete = serializers.BooleanField(help_text="True once no accepted image is still checking.")
    results = BulkItemResultSerializer(many=True)


class PaginatedWatchlistImageSerializer(serializers.Serializer):
    """The list's page (LimitOffsetPagination's shape)."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = WatchlistImageSerializer(many=True)


class WithdrawalSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        help_text="Why the image is withdrawn (or the X-Reason header); kept on the deletion certificate.",
    )
