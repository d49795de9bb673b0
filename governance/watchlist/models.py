"""Watchlist images and their provenance: the ledger the King's Cross arrangement never had.

Every image records where it came from (supplying force or unit, agreement, who submitted it, over
which channel), on what legal basis (DPA 2018 s.35 + a Schedule 8 condition), why the person is on a
watchlist (custody category, custody or case reference, a pseudonymous subject reference — never a
name), the SHA-256 of the bytes the force sent, and its life: received → enrolled | rejected →
withdrawn → erased, with reasons and timestamps.

An upload is accepted after cheap checks only (``governance.watchlist.validation.image_precheck``): until the
worker has decoded it and re-encoded it without metadata, the bytes as sent wait encrypted in
``WatchlistImageUpload`` and the image is ``checking`` (``WatchlistImage.awaiting_check``, status ``received``). Nothing
reads that row but the worker's ``watchlist_image_process_upload``, which deletes it whatever the outcome: every reader
of image bytes (consultation, reviewer crops, enrolment, subject access) reads ``WatchlistImageContent``, which only
ever holds clean bytes.

The clean image bytes live in a separate row (``WatchlistImageContent``), encrypted with
``governance.encryption``: listings never load them, and erasure deletes that row in the same
transaction that writes the deletion certificate and the audit event. Keeping the ciphertext in the
database rather than in files also makes "nothing half-stored" hold for any enclosing transaction
(a bulk upload, the scenario loader): a rollback leaves no orphan file behind.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from governance.agreements.models import Agreement, CustodyCategory, Schedule8Condition, Section35Basis
from governance.organisations.models import Organisation


class ImageStatus(models.TextChoices):
    RECEIVED = "received", "Received (awaiting enrolment)"
    ENROLLED = "enrolled", "Enrolled"
    REJECTED = "rejected", "Rejected at enrolment"
    WITHDRAWN = "withdrawn", "Withdrawn"
    ERASED = "erased", "Erased"


# Images held under an agreement: they count against its cap (a rejected image's bytes are still
# held until it is withdrawn or erased).
LIVE_STATUSES = (ImageStatus.RECEIVED, ImageStatus.ENROLLED, ImageStatus.REJECTED)
# Images that make another upload of the same bytes a duplicate: those waiting for enrolment or
# enrolled. A rejected image stays as the record of the failed attempt and does not block the
# corrected resubmission (e.g. the same photo with a face box).
DUPLICATE_BLOCKING_STATUSES = (ImageStatus.RECEIVED, ImageStatus.ENROLLED)


class RejectionReason(models.TextChoices):
    NO_FACE = "no_face", "No face found"
    FACE_TOO_SMALL = "face_too_small", "Face too small to enrol"
    MULTIPLE_FACES = "multiple_faces", "Several faces and no face box naming one"
    FACE_BOX_EMPTY = "face_box_empty", "No face found inside the given face box"
    UNREADABLE = "unreadable", "Image could not be decoded"
    AGREEMENT_NOT_ACTIVE = "agreement_not_active", "Agreement no longer active"
    # Refusals of the worker's full decode (the codes of ``governance.watchlist.validation.image_clean``): the
    # request's cheap checks passed, the decode did not.
    CORRUPT_IMAGE = "corrupt_image", "Image data truncated or corrupt"
    NOT_AN_IMAGE = "not_an_image", "Not a readable JPEG, PNG or WebP image"
    TOO_MANY_PIXELS = "too_many_pixels", "Image has too many pixels"
    DECODE_BUDGET_EXCEEDED = "decode_budget_exceeded", "Image would cost too much to decode"
    TOO_MANY_SCANS = "too_many_scans", "JPEG has too many scans"
    IMAGE_TOO_SMALL = "image_too_small", "Image too small to hold a usable face"
    # The canonical (re-encoded) pixels are those of an image already held under the agreement.
    DUPLICATE_IMAGE = "duplicate_image", "Same pixels as an image already held"


class TransferChannel(models.TextChoices):
    API = "api", "Oversight API (token per force or unit)"
    WEB = "web", "Oversight web upload"
    CJSM_EMAIL = "cjsm_email", "Criminal-justice secure email"
    OTHER = "other", "Other (see notes)"


class WatchlistImage(models.Model):
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="watchlist_images")
    supplying_organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="watchlist_images_supplied",
        help_text="The force or unit that supplied the image (the submitter's organisation).",
    )
    supplying_force = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The force accountable for the image (the supplier itself, or the force of a supplying unit).",
    )

    # Provenance.
    subject_reference = models.CharField(max_length=64, help_text="Pseudonymous reference; never a name.")
    custody_category = models.CharField(max_length=20, choices=CustodyCategory.choices)
    legal_basis = models.CharField(
        max_length=10, choices=Section35Basis.choices, default=Section35Basis.STRICTLY_NECESSARY
    )
    schedule8_condition = models.CharField(max_length=10, choices=Schedule8Condition.choices)
    custody_reference = models.CharField(max_length=120, help_text="Custody record or case reference.")
    image_taken_on = models.DateField(help_text="When the photograph was taken (the most recent suitable image).")
    shared_on = models.DateField(help_text="When the force shared the image with the operator.")
    transfer_channel = models.CharField(max_length=20, choices=TransferChannel.choices, default=TransferChannel.API)
    notes = models.TextField(blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_by_name = models.CharField(max_length=200, blank=True)
    submitted_via_token = models.CharField(
        max_length=32, blank=True, help_text="Public key prefix of the API token used."
    )
    received_at = models.DateTimeField()

    # The bytes (facts only; the encrypted bytes are in WatchlistImageContent).
    sha256 = models.CharField(
        max_length=64,
        blank=True,
        help_text="SHA-256 of the original bytes as the force sent them (blank only for historical records without bytes).",
    )
    stored_sha256 = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the stored, metadata-free bytes.")
    image_format = models.CharField(max_length=10, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    original_bytes = models.PositiveIntegerField(null=True, blank=True)
    face_box = models.JSONField(null=True, blank=True, help_text="Optional [x1, y1, x2, y2] naming the face to enrol.")

    # Life.
    status = models.CharField(max_length=12, choices=ImageStatus.choices, default=ImageStatus.RECEIVED, db_index=True)
    awaiting_check = models.BooleanField(
        default=False,
        help_text="Received, not yet decoded and cleaned by the worker (shown as 'checking'): no clean bytes yet.",
    )
    rejection_reason = models.CharField(max_length=30, choices=RejectionReason.choices, blank=True)
    rejection_message = models.TextField(blank=True)
    enrolled_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_by_name = models.CharField(max_length=200, blank=True)
    withdrawal_reason = models.TextField(blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    # Restriction of processing (UK GDPR Art. 18 / DPA 2018 s.47(2)) on a subject's request: while
    # it stands the image is held but never matched (``watchlist_images_matchable``).
    restricted_at = models.DateTimeField(null=True, blank=True)
    restriction_reason = models.TextField(blank=True)
    recorded_retrospectively = models.BooleanField(
        default=False,
        help_text="Entered after the fact from the historical record (e.g. King's Cross 2016-2018).",
    )

    class Meta:
        ordering = ["-received_at", "-pk"]
        permissions = [
            ("view_watchlistimage_bytes", "Can read a watchlist image's bytes (with a justification)"),
            ("withdraw_watchlistimage", "Can withdraw a watchlist image"),
        ]
        constraints = [
            # A duplicate is the same original bytes under the same agreement while the first copy is
            # waiting for enrolment or enrolled (DUPLICATE_BLOCKING_STATUSES); once rejected, withdrawn
            # or erased, the force may share it again.
            models.UniqueConstraint(
                fields=["agreement", "sha256"],
                condition=models.Q(status__in=list(DUPLICATE_BLOCKING_STATUSES)) & ~models.Q(sha256=""),
                name="watchlist_image_unique_pending_or_enrolled_sha256",
            ),
            models.CheckConstraint(
                name="watchlist_image_rejected_has_reason",
                condition=~models.Q(status="rejected") | ~models.Q(rejection_reason=""),
                violation_error_message="A rejected image needs the reason it was rejected.",
            ),
        ]
        indexes = [models.Index(fields=["agreement", "status"], name="watchlist_agreement_status_idx")]

    def concerned_organisation_ids(self) -> set[int]:
        """The supplier and the operator the image went to (audit scoping)."""
        return {self.supplying_organisation_id, self.agreement.receiving_organisation_id}

    def __str__(self) -> str:
        return f"Watchlist image #{self.pk} ({self.subject_reference})"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def stage(self) -> str:
        """The status as a force reads it: ``checking`` while the worker has not yet cleaned the upload."""
        return "checking" if self.awaiting_check and self.status == ImageStatus.RECEIVED else self.status


class WatchlistImageContent(models.Model):
    """The encrypted image bytes. One row per image; deleted on erasure."""

    ENCRYPTED_FIELDS = ("ciphertext",)

    image = models.OneToOneField(WatchlistImage, on_delete=models.CASCADE, primary_key=True, related_name="content")
    ciphertext = models.BinaryField(help_text="Fernet token of the metadata-free image bytes.")
    key_id = models.CharField(max_length=16, help_text="Fingerprint of the key that encrypted it (rotation).")
    content_type = models.CharField(max_length=40)

    def __str__(self) -> str:
        return f"encrypted bytes of image #{self.image_id}"


class WatchlistImageUpload(models.Model):
    """The bytes exactly as uploaded, encrypted, until the worker has checked and cleaned them (issue 26).

    May hold EXIF (GPS position, device serials): read only by ``watchlist_image_process_upload`` and deleted by it in
    the transaction that stores the clean bytes or rejects the image; erasure deletes it too.
    """

    ENCRYPTED_FIELDS = ("ciphertext",)

    image = models.OneToOneField(
        WatchlistImage, on_delete=models.CASCADE, primary_key=True, related_name="pending_upload"
    )
    ciphertext = models.BinaryField(help_text="Fernet token of the bytes as uploaded (never served).")
    key_id = models.CharField(max_length=16, help_text="Fingerprint of the key that encrypted it (rotation).")

    def __str__(self) -> str:
        return f"uploaded bytes awaiting check of image #{self.image_id}"


class WatchlistBulkUpload(models.Model):
    """One bulk upload (API or web form) and the result of each file in it (issue 26).

    The request records each file's result at receipt (the accepted image, or the coded refusal); the worker then
    decodes each accepted image, so a file's final outcome is its image's status, read live. Visible to the
    uploader's organisation only (``governance.watchlist.selectors.bulk_upload_get``).
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=20, choices=TransferChannel.choices, default=TransferChannel.API)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Bulk upload #{self.pk}"


class WatchlistBulkItem(models.Model):
    """One file of a bulk upload: the image it became, or the code and sentence of its refusal."""

    bulk = models.ForeignKey(WatchlistBulkUpload, on_delete=models.CASCADE, related_name="items")
    index = models.PositiveIntegerField()
    name = models.CharField(max_length=200, blank=True, help_text="The file's name (web form) or blank (API).")
    image = models.ForeignKey(WatchlistImage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    code = models.CharField(max_length=40, blank=True)
    message = models.TextField(blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    details = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["bulk", "index"]
        constraints = [models.UniqueConstraint(fields=["bulk", "index"], name="watchlist_bulk_item_unique_index")]

    def __str__(self) -> str:
        return f"Item {self.index} of bulk upload #{self.bulk_id}"


class WatchlistImageUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(WatchlistImage, on_delete=models.CASCADE)


class WatchlistImageGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(WatchlistImage, on_delete=models.CASCADE)


class DeletionCertificate(models.Model):
    """A record that personal data was erased: what, when, why, under which rule, by whom.

    Generic on purpose (``subject_type`` / ``subject_id``) so that retention sweeps and subject
    requests record their erasures the same way. Holds a SHA-256 of what was erased — evidence of
    *which* bytes went, without keeping them.
    """

    subject_type = models.CharField(max_length=80, db_index=True, help_text="e.g. governance.watchlistimage")
    subject_id = models.CharField(max_length=64, db_index=True)
    subject_label = models.CharField(max_length=300, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, help_text="SHA-256 of what was erased.")
    reason = models.TextField()
    rule = models.CharField(max_length=80, help_text="Why it was due, e.g. withdrawal or a retention rule.")
    erased_at = models.DateTimeField()
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    erased_by_name = models.CharField(max_length=200, blank=True)
    run_id = models.CharField(max_length=64, blank=True, null=True, help_text="Retention run that erased it, if any.")
    details = models.JSONField(default=dict, blank=True)
    # The two sides of the sharing the erased item belonged to: who may read the certificate
    # (``governance.access.certificates_visible_to``).
    supplier_organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    operator_organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-erased_at", "-pk"]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="deletion_cert_subject_idx")]

    def concerned_organisation_ids(self) -> set[int]:
        return {i for i in (self.supplier_organisation_id, self.operator_organisation_id) if i}

    def __str__(self) -> str:
        return f"Deletion certificate #{self.pk}: {self.subject_type}:{self.subject_id}"
