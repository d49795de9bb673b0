"""The inbox and the regulator's correspondence. Changes only through ``governance.notifications.services``."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from governance.fields import user_reference
from governance.organisations.models import Organisation


class Notification(models.Model):
    """One notice to one user: a clock reached a stage (``key`` names the record, ``stage`` the point reached).
    Raised at most once per recipient, record and stage (the unique constraint makes the sweep idempotent).
    ``title`` is for the inbox only; an email carries nothing but a link to this notice."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    clock = models.CharField(max_length=60)
    key = models.CharField(max_length=120)
    stage = models.CharField(max_length=60)
    title = models.CharField(max_length=300)
    url = models.CharField(max_length=500)
    raised_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key", "stage"], name="notification_once_per_stage")
        ]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread_idx")]

    def __str__(self) -> str:
        return self.title

    def concerned_organisation_ids(self) -> set[int]:
        return {self.recipient.organisation_id} if self.recipient.organisation_id else set()


class NotificationPreference(models.Model):
    """Whether the user also receives each notice by email (the inbox always has it)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    email = models.BooleanField(default=True)
    changed_at = models.DateTimeField()


class NotifiedKind(models.TextChoices):
    AGREEMENT = "agreement", "Agreement notified before approval"
    BREACH = "breach", "Personal data breach notified"


class RegulatorAcknowledgement(models.Model):
    """The regulator's acknowledgement of a record notified to it (once per regulator and record)."""

    regulator = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=NotifiedKind.choices)
    object_id = models.PositiveBigIntegerField()
    acknowledged_at = models.DateTimeField()
    acknowledged_by = user_reference(blank=False)
    acknowledged_by_name = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["regulator", "kind", "object_id"], name="regulator_ack_once"),
        ]


class RegulatorQuery(models.Model):
    """A question the regulator asks about a record notified to it, and the answering DPO's reply."""

    regulator = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=NotifiedKind.choices)
    object_id = models.PositiveBigIntegerField()
    question = models.TextField(max_length=4000)
    asked_at = models.DateTimeField()
    asked_by = user_reference(blank=False)
    asked_by_name = models.CharField(max_length=200)
    answer = models.TextField(max_length=4000, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = user_reference()
    answered_by_name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["asked_at", "pk"]
        indexes = [models.Index(fields=["kind", "object_id"], name="regulator_query_record_idx")]

    def __str__(self) -> str:
        return f"Query on {self.kind} {self.object_id}"
