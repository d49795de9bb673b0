"""Breach records. Changes only through ``governance.breaches.services`` (each audited)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models

from governance.organisations.models import Organisation

# Art. 33(1) / s.67(1): notify the Commissioner without undue delay and, where feasible, within 72
# hours of becoming aware, unless the breach is unlikely to result in a risk to people's rights.
COMMISSIONER_HOURS = 72


class BreachRisk(models.TextChoices):
    UNLIKELY = "unlikely", "Unlikely to result in a risk to people's rights and freedoms"
    RISK = "risk", "A risk to people's rights and freedoms"
    HIGH = "high", "A high risk to people's rights and freedoms"


class Breach(models.Model):
    reference = models.CharField(max_length=40, unique=True)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="breaches",
        help_text="The controller that records and answers for the breach.",
    )
    title = models.CharField(max_length=200)
    what_happened = models.TextField()
    occurred_at = models.DateTimeField(null=True, blank=True, help_text="When it happened, if known.")
    discovered_at = models.DateTimeField(help_text="When the organisation became aware (the 72-hour clock starts).")
    data_affected = models.TextField(help_text="Which personal data (categories, approximate number of records).")
    people_affected = models.PositiveIntegerField(null=True, blank=True, help_text="Approximate number of people.")
    people_affected_description = models.TextField(blank=True, help_text="Categories of people affected.")
    risk = models.CharField(max_length=10, choices=BreachRisk.choices)
    risk_assessment = models.TextField(help_text="Likely consequences and why the risk is rated so.")
    measures_taken = models.TextField(blank=True)
    commissioner_notified_at = models.DateTimeField(null=True, blank=True)
    commissioner_reference = models.CharField(max_length=120, blank=True)
    commissioner_delay_reason = models.TextField(
        blank=True, help_text="Art. 33(1): reasons for a notification after 72 hours."
    )
    commissioner_not_notified_reason = models.TextField(blank=True)
    subjects_notified_at = models.DateTimeField(null=True, blank=True)
    subjects_notified_how = models.TextField(blank=True)
    subjects_not_notified_reason = models.TextField(blank=True, help_text="Art. 34(3) / s.68: why they were not told.")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_by_name = models.CharField(max_length=200)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-discovered_at"]
        verbose_name_plural = "breaches"
        indexes = [models.Index(fields=["organisation", "discovered_at"], name="breach_org_discovered_idx")]

    def __str__(self) -> str:
        return f"{self.reference} — {self.title}"

    def concerned_organisation_ids(self) -> set[int]:
        return {self.organisation_id}

    @property
    def commissioner_due_at(self) -> datetime:
        return self.discovered_at + timedelta(hours=COMMISSIONER_HOURS)

    @property
    def commissioner_notification_required(self) -> bool:
        return self.risk != BreachRisk.UNLIKELY

    @property
    def subjects_notification_required(self) -> bool:
        """Art. 34(1) / s.68(1): tell the people affected where the risk is high."""
        return self.risk == BreachRisk.HIGH
