"""Published reports: a frozen snapshot of a transparency report at a public, unguessable address.

The snapshot holds figures only (``content``: the report's sections as plain JSON). It is written
once by ``transparency_report_publish`` and never recomputed, so what the public read is what was
published, even after the records behind it are erased.
"""

from __future__ import annotations

from django.db import models

from governance.organisations.models import Organisation


class PublishedReport(models.Model):
    slug = models.CharField(max_length=40, unique=True, help_text="Random: the public URL is not guessable.")
    kind = models.CharField(max_length=20, default="transparency")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="published_reports")
    title = models.CharField(max_length=300)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    content = models.JSONField(help_text="The report's sections, figures only.")
    published_at = models.DateTimeField()
    published_by_name = models.CharField(max_length=200, help_text="A person's name, or 'scheduled job'.")

    class Meta:
        ordering = ["-period_end", "-published_at"]
        permissions = [
            ("view_reports", "Can read accountability reports (scoped to what the reader may see)"),
            ("publish_reports", "Can publish the organisation's transparency report"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "kind", "period_start", "period_end"], name="published_report_one_per_period"
            )
        ]

    def __str__(self) -> str:
        return self.title

    def concerned_organisation_ids(self) -> set[int]:
        return {self.organisation_id}


class PrincipleCommentary(models.Model):
    """The DPO's own commentary on one Surveillance Camera Code principle, shown beside the evidence
    the records give (``governance.reports.pack``). One current text per organisation and principle."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    principle = models.PositiveSmallIntegerField()
    text = models.TextField()
    updated_at = models.DateTimeField()
    updated_by_name = models.CharField(max_length=200)

    class Meta:
        ordering = ["organisation", "principle"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "principle"], name="principle_commentary_unique"),
            models.CheckConstraint(
                name="principle_commentary_1_to_12",
                condition=models.Q(principle__gte=1) & models.Q(principle__lte=12),
                violation_error_message="The Surveillance Camera Code has principles 1 to 12.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation}: principle {self.principle}"

    def concerned_organisation_ids(self) -> set[int]:
        return {self.organisation_id}
