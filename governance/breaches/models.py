"""Breach records. Changes only through ``governance.breaches.services`` (each audited)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models

from governance.fields import user_reference
from governance.organisations.models import Organisation

# Art. 33(1) / s.67(1): notify the Commissioner without undue delay and, where feasible, within 72
# hours of becoming aware, unless the breach is unlikely to result in a risk to people's rights.
COMMISSIONER_HOURS = 72
# A party to a data-sharing agreement tells the other party as the agreement says; commonly within
# 24 hours (ICO data sharing code: breach handling). Used where the agreement states no hours.
DEFAULT_PARTY_HOURS = 24


class BreachRisk(models.TextChoices):
    UNLIKELY = "unlikely", "Unlikely to result in a risk to people's rights and freedoms"
    RISK = "risk", "A risk to people's rights and freedoms"
    HIGH = "high", "A high risk to people's rights and freedoms"


class NotToldGround(models.TextChoices):
    """The grounds the law lists for not telling the people affected by a high-risk breach
    (``governance.breaches.rules.subjects_not_told_refusal`` quotes them and checks which apply)."""

    PROTECTED = "protected", "Art. 34(3)(a) / s.68(3)(a): protection measures applied (e.g. encryption)"
    RISK_REMOVED = "risk_removed", "Art. 34(3)(b) / s.68(3)(b): later measures mean the high risk is no longer likely"
    DISPROPORTIONATE = "disproportionate", "Art. 34(3)(c) / s.68(3)(c): disproportionate effort (public notice instead)"
    S68_7_A = "s68_7_a", "s.68(7)(a): avoid obstructing an official or legal inquiry, investigation or procedure"
    S68_7_B = (
        "s68_7_b",
        "s.68(7)(b): avoid prejudicing the prevention, detection, investigation or prosecution of offences",
    )
    S68_7_C = "s68_7_c", "s.68(7)(c): protect public security"
    S68_7_D = "s68_7_d", "s.68(7)(d): protect national security"
    S68_7_E = "s68_7_e", "s.68(7)(e): protect the rights and freedoms of others"


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
    records_affected = models.PositiveIntegerField(
        null=True, blank=True, help_text="Art. 33(3)(a): approximate number of personal data records concerned."
    )
    people_affected = models.PositiveIntegerField(null=True, blank=True, help_text="Approximate number of people.")
    people_affected_description = models.TextField(blank=True, help_text="Categories of people affected.")
    risk = models.CharField(max_length=10, choices=BreachRisk.choices)
    risk_assessment = models.TextField(help_text="Likely consequences and why the risk is rated so.")
    measures_taken = models.TextField(blank=True)
    dpo_contact = models.TextField(
        blank=True, help_text="Art. 33(3)(b): the name and contact details of the DPO or other contact point."
    )
    commissioner_notified_at = models.DateTimeField(null=True, blank=True)
    commissioner_reference = models.CharField(max_length=120, blank=True)
    commissioner_delay_reason = models.TextField(
        blank=True, help_text="Art. 33(1): reasons for a notification after 72 hours."
    )
    commissioner_not_notified_reason = models.TextField(blank=True)
    subjects_notified_at = models.DateTimeField(null=True, blank=True)
    subjects_notified_how = models.TextField(blank=True)
    subjects_not_notified_reason = models.TextField(blank=True, help_text="Art. 34(3) / s.68: why they were not told.")
    subjects_not_notified_ground = models.CharField(max_length=20, choices=NotToldGround.choices, blank=True)
    recorded_by = user_reference(blank=False)
    recorded_by_name = models.CharField(max_length=200)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-discovered_at"]
        verbose_name_plural = "breaches"
        indexes = [models.Index(fields=["organisation", "discovered_at"], name="breach_org_discovered_idx")]

    def __str__(self) -> str:
        return f"{self.reference} — {self.title}"

    def concerned_organisation_ids(self) -> set[int]:
        """The recorder and every party whose shared data the breach involves (audit scoping)."""
        return {self.organisation_id, *self.parties.values_list("organisation_id", flat=True)}

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


class BreachParty(models.Model):
    """Another organisation whose data the breach involves, through an agreement: the force that
    supplied the images, or the operator that received them. It sees the breach (its DPO reads it
    in its own register) and is owed a notification within ``hours`` of discovery."""

    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="parties")
    agreement = models.ForeignKey("governance.Agreement", on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="breaches_shared", help_text="The other party."
    )
    hours = models.PositiveIntegerField(default=DEFAULT_PARTY_HOURS, help_text="Hours to tell it (the agreement's).")
    told_at = models.DateTimeField(null=True, blank=True)
    told_how = models.TextField(blank=True)
    told_by_name = models.CharField(max_length=200, blank=True)
    linked_by_name = models.CharField(max_length=200)
    linked_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["breach", "agreement", "organisation"], name="breach_party_unique")
        ]
        indexes = [models.Index(fields=["organisation"], name="breach_party_org_idx")]

    def __str__(self) -> str:
        return f"{self.breach.reference} shared with {self.organisation}"

    @property
    def due_at(self) -> datetime:
        return self.breach.discovered_at + timedelta(hours=self.hours)
