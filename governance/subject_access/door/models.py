"""What the public door keeps: the request's link to the door (the e-mail the person gave), the
files they sent (encrypted at rest, erased by the ``subject_door_file.after_close`` retention rule),
their answers to what the DPO asked, and one-time codes (only their keyed hashes are stored)."""

from __future__ import annotations

from django.db import models

from governance.subject_access.models import SubjectRequest, SubjectRequestExport, SubjectRequestPause


class DoorSubmission(models.Model):
    request = models.OneToOneField(SubjectRequest, on_delete=models.PROTECT, related_name="door")
    email = models.EmailField(help_text="Where the person is told what happens, and gets their codes and link.")
    submitted_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.request} (public page)"

    def concerned_organisation_ids(self) -> set[int]:
        return self.request.concerned_organisation_ids()


class DoorFileKind(models.TextChoices):
    PHOTO = "photo", "Photo for the face search"
    IDENTITY = "identity", "Proof of identity"


class DoorFile(models.Model):
    """One image the person sent, stored encrypted. The web request runs only the cheap checks
    (``image_precheck``) and keeps the bytes as uploaded; the worker (``door.checks``) decodes and re-encodes them
    without metadata and sets ``checked_at``, or erases them and records ``refusal_code`` (issue 26). Nothing reads
    a file before ``checked_at``."""

    ENCRYPTED_FIELDS = ("ciphertext",)

    submission = models.ForeignKey(DoorSubmission, on_delete=models.PROTECT, related_name="files")
    kind = models.CharField(max_length=10, choices=DoorFileKind.choices)
    ciphertext = models.BinaryField(null=True, blank=True)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    key_id = models.CharField(max_length=16, blank=True)
    received_at = models.DateTimeField()
    checked_at = models.DateTimeField(
        null=True, blank=True, help_text="When the worker decoded and re-encoded it (or refused it); None: checking."
    )
    refusal_code = models.CharField(
        max_length=60, blank=True, help_text="Why the worker refused the image (its bytes are then erased)."
    )
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["received_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.submission.request}"

    def concerned_organisation_ids(self) -> set[int]:
        return self.submission.concerned_organisation_ids()


class DoorReply(models.Model):
    """The person's answer, through the door, to what the DPO asked (a clock pause)."""

    submission = models.ForeignKey(DoorSubmission, on_delete=models.PROTECT, related_name="replies")
    pause = models.ForeignKey(SubjectRequestPause, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(blank=True)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["received_at", "pk"]

    def __str__(self) -> str:
        return f"Reply on {self.submission.request}"


class DoorCodePurpose(models.TextChoices):
    RETURN = "return", "Come back to answer what was asked"
    DOWNLOAD = "download", "Download the response"


class DoorCode(models.Model):
    """A one-time code (and for a download, the link's token): stored as keyed hashes only. Works
    once, until ``expires_at``; locked after ``OVERSIGHT_DOOR_CODE_ATTEMPTS`` wrong codes."""

    submission = models.ForeignKey(DoorSubmission, on_delete=models.PROTECT, related_name="codes")
    purpose = models.CharField(max_length=10, choices=DoorCodePurpose.choices)
    code_hash = models.CharField(max_length=64)
    link_hash = models.CharField(max_length=64, blank=True, db_index=True)
    export = models.ForeignKey(SubjectRequestExport, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} code for {self.submission.request}"

    def concerned_organisation_ids(self) -> set[int]:
        return self.submission.concerned_organisation_ids()
