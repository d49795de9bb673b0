"""Legal holds and retention runs. What was erased is recorded as a ``DeletionCertificate``
(governance.watchlist.models), one per erased item, carrying the run's id."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from governance.fields import user_reference


class HoldScope(models.TextChoices):
    """What a legal hold covers. An agreement hold covers every image and alert under it."""

    ALERT = "alert", "An alert"
    WATCHLIST_IMAGE = "watchlist_image", "A watchlist image"
    AGREEMENT = "agreement", "An agreement (all its images and alerts)"


class LegalHoldQuerySet(models.QuerySet):
    def in_force(self, at=None):
        at = at or timezone.now()
        return self.filter(released_at__isnull=True).filter(Q(until__isnull=True) | Q(until__gt=at))


class LegalHold(models.Model):
    """Blocks erasure of what it covers (e.g. data needed for criminal proceedings) until released
    or until its end date passes."""

    scope = models.CharField(max_length=20, choices=HoldScope.choices)
    target_id = models.CharField(max_length=64)
    target_label = models.CharField(max_length=300, blank=True)
    reason = models.TextField()
    placed_by = user_reference(blank=False)
    placed_at = models.DateTimeField(default=timezone.now)
    until = models.DateTimeField(
        null=True, blank=True, help_text="The hold lapses at this time; empty = until released."
    )
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = user_reference()
    release_reason = models.TextField(blank=True)
    # Scope: the two sides of what is held (both read the hold) and the side that placed it (only
    # it, or its force, releases it). Set by ``legal_hold_place`` from the held record itself.
    supplier_organisation = models.ForeignKey(
        "governance.Organisation", null=True, on_delete=models.PROTECT, related_name="+"
    )
    operator_organisation = models.ForeignKey(
        "governance.Organisation", null=True, on_delete=models.PROTECT, related_name="+"
    )
    placed_by_organisation = models.ForeignKey(
        "governance.Organisation", null=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at"]
        indexes = [models.Index(fields=["scope", "target_id"], name="legal_hold_target_idx")]

    def __str__(self) -> str:
        return f"Legal hold on {self.get_scope_display().lower()} {self.target_label or self.target_id}"

    def concerned_organisation_ids(self) -> set[int]:
        return {
            i
            for i in (self.supplier_organisation_id, self.operator_organisation_id, self.placed_by_organisation_id)
            if i
        }

    @property
    def in_force(self) -> bool:
        return self.released_at is None and (self.until is None or self.until > timezone.now())


class RetentionRunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    INTERRUPTED = "interrupted", "Interrupted (a later run finished its work)"


class RetentionRun(models.Model):
    run_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=RetentionRunStatus.choices, default=RetentionRunStatus.RUNNING)
    triggered_by = models.CharField(max_length=150, default="schedule")
    erased_counts = models.JSONField(default=dict, help_text="Items erased per rule.")
    held_counts = models.JSONField(default=dict, help_text="Items due but blocked by a legal hold, per rule.")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Retention run {self.run_id} ({self.get_status_display().lower()})"

    @property
    def total_erased(self) -> int:
        return sum(self.erased_counts.values())
