"""Data protection impact assessments (UK GDPR Art. 35(7); DPA 2018 s.64), structured and versioned.

A DPIA is a record the rest of the system obeys: an agreement cannot be approved, and a deployment
cannot go live, unless an approved, in-date DPIA covers it (``governance.dpia.rules``). What the
processing *is* (data items, retention, sites, thresholds) is not retyped here: it is computed from
the agreements and deployments the DPIA covers. Deployments belong to recognition, which governance
does not import: a covered deployment is stored by id, with the equality and accuracy evidence the
DPIA relies on for it, and recognition describes it through ``governance.dpia.registry``.

State changes only through ``governance.dpia.services``.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from governance.agreements.models import Agreement
from governance.fields import user_reference
from governance.organisations.models import Organisation


class DPIAStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SUPERSEDED = "superseded", "Superseded by a later version"


class Likelihood(models.IntegerChoices):
    """The ICO's DPIA template scale."""

    REMOTE = 1, "Remote"
    POSSIBLE = 2, "Possible"
    PROBABLE = 3, "Probable"


class Severity(models.IntegerChoices):
    MINIMAL = 1, "Minimal"
    SIGNIFICANT = 2, "Significant"
    SEVERE = 3, "Severe"


class RiskLevel(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


def risk_level(likelihood: int, severity: int) -> RiskLevel:
    """The matrix's cell colour: likelihood × severity on the ICO's 3 × 3 scale."""
    score = int(likelihood) * int(severity)
    if score >= 6:
        return RiskLevel.HIGH
    if score >= 3:
        return RiskLevel.MEDIUM
    return RiskLevel.LOW


class DPIA(models.Model):
    reference = models.CharField(max_length=40, db_index=True, help_text="Shared by all versions")
    version = models.PositiveIntegerField(default=1)
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=DPIAStatus.choices, default=DPIAStatus.DRAFT, db_index=True)
    controller = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="dpias",
        help_text="The controller whose DPIA this is: it writes and signs it off.",
    )

    # Art. 35(7)(a): a systematic description of the processing and its purposes.
    nature = models.TextField(blank=True, help_text="What the processing does: collection, matching, storage, sharing.")
    scope = models.TextField(blank=True, help_text="How much, how often, how widely, whose data.")
    context = models.TextField(blank=True, help_text="Relationship with the people, their expectations, the setting.")
    purposes = models.TextField(blank=True)
    # Art. 35(7)(b): necessity and proportionality.
    necessity = models.TextField(blank=True, help_text="Why this processing is strictly necessary (s.35(5)).")
    proportionality = models.TextField(blank=True, help_text="Why less intrusive means would not do; safeguards.")
    # Art. 35(7)(d): measures beyond the per-risk ones.
    safeguards = models.TextField(blank=True)
    # Art. 35(2) / s.64: the DPO's advice, and whether it was followed.
    dpo_advice = models.TextField(blank=True)
    dpo_advice_by_name = models.CharField(max_length=200, blank=True)
    # Who recorded the advice and when: apart from the controller's sign-off, which is another person's.
    dpo_advice_by = user_reference()
    dpo_advice_at = models.DateTimeField(null=True, blank=True)
    dpo_advice_followed = models.BooleanField(null=True, blank=True)
    dpo_advice_response = models.TextField(blank=True, help_text="Where the advice was not followed: why.")
    # Art. 35(9): the views of data subjects or their representatives.
    subject_views = models.TextField(blank=True)
    review_on = models.DateField(help_text="When the DPIA must be reviewed (sooner if the processing changes).")

    # s.65 / Art. 36: prior consultation with the Commissioner when residual risk stays high.
    consultation_on = models.DateField(null=True, blank=True)
    consultation_reference = models.CharField(max_length=120, blank=True)
    consultation_outcome = models.TextField(blank=True)

    # Scope (data, not code): the organisations the DPIA concerns — the controller, its force, and
    # the parties of what it covers. Kept by the services whenever coverage changes.
    concerned_organisations = models.ManyToManyField(Organisation, related_name="+", blank=True)
    agreements = models.ManyToManyField(
        Agreement,
        related_name="dpias",
        blank=True,
        help_text="Agreements covered (by reference: their amendments too).",
    )

    drafted_by = user_reference()
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by_name = models.CharField(max_length=200, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = user_reference()
    approved_by_name = models.CharField(max_length=200, blank=True)
    approved_by_capacity = models.CharField(
        max_length=200, blank=True, help_text="In what capacity the controller signed off."
    )
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejected_by_name = models.CharField(max_length=200, blank=True)
    rejection_reason = models.TextField(blank=True)
    # Art. 35(11): the processing changed (e.g. the engine now runs other weights) — review before use.
    flagged_for_review_at = models.DateTimeField(null=True, blank=True)
    flag_reason = models.TextField(blank=True)

    previous_version = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_version"
    )
    change_summary = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["reference", "-version"]
        verbose_name = "DPIA"
        permissions = [
            ("submit_dpia", "Can send a DPIA for review"),
            ("approve_dpia", "Can approve or reject a DPIA for the controller"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["reference", "version"], name="dpia_reference_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} v{self.version} — {self.title}"

    def concerned_organisation_ids(self) -> set[int]:
        return set(self.concerned_organisations.values_list("pk", flat=True)) | {self.controller_id}

    @property
    def review_overdue(self) -> bool:
        return self.review_on < timezone.localdate()

    @property
    def highest_residual_risk(self) -> str | None:
        levels = set(self.risks.values_list("residual_risk", flat=True))
        for level in (RiskLevel.HIGH, RiskLevel.MEDIUM, RiskLevel.LOW):
            if level in levels:
                return level
        return None

    @property
    def consultation_recorded(self) -> bool:
        return bool(self.consultation_on and self.consultation_reference.strip() and self.consultation_outcome.strip())


class DPIARisk(models.Model):
    """One risk to the rights and freedoms of data subjects (Art. 35(7)(c)) and what is done about it."""

    dpia = models.ForeignKey(DPIA, on_delete=models.CASCADE, related_name="risks")
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    description = models.TextField()
    likelihood = models.PositiveSmallIntegerField(choices=Likelihood.choices)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    measures = models.TextField(help_text="Measures to reduce or eliminate the risk.")
    residual_risk = models.CharField(max_length=8, choices=RiskLevel.choices)

    class Meta:
        ordering = ["dpia", "position", "pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def inherent_risk(self) -> RiskLevel:
        return risk_level(self.likelihood, self.severity)


class DPIADeployment(models.Model):
    """A deployment the DPIA covers, with the equality and accuracy evidence relied on for it.

    The engine's measured figures at the operating threshold and the SHA-256 of the weights they
    were measured with are copied in when the deployment is added (from recognition, through the
    registry): the DPIA cites *those* weights, and if the engine later runs others the DPIA is
    flagged for review and the deployment cannot go live (Art. 35(11)).
    """

    dpia = models.ForeignKey(DPIA, on_delete=models.CASCADE, related_name="deployments")
    deployment_id = models.PositiveIntegerField(
        db_index=True, help_text="recognition's Deployment (not a foreign key: governance does not import recognition)"
    )
    deployment_reference = models.CharField(max_length=40)
    deployment_name = models.CharField(max_length=200)
    operator = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    threshold = models.FloatField(help_text="The operating threshold the evidence is for.")
    demographic_evidence = models.TextField(
        help_text="Evidence relied on for demographic performance at that threshold."
    )
    monitoring_plan = models.TextField(help_text="How performance across groups is monitored while deployed.")
    measured = models.JSONField(
        default=dict, help_text="The engine's own FMR/FNMR at the threshold, with intervals and dataset."
    )
    weights_sha256 = models.CharField(max_length=64)
    weights_label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["dpia", "deployment_reference"]
        constraints = [
            models.UniqueConstraint(fields=["dpia", "deployment_id"], name="dpia_deployment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.deployment_reference} — {self.deployment_name}"

    @staticmethod
    def _rate(errors: int, trials: int, interval: list[float]) -> str:
        from governance.presentation import rate_text

        return rate_text(errors, trials, interval)

    @property
    def fmr_text(self) -> str:
        m = self.measured
        return self._rate(m["fmr_errors"], m["fmr_trials"], m["fmr_ci"]) if m else "not measured"

    @property
    def fnmr_text(self) -> str:
        m = self.measured
        return self._rate(m["fnmr_errors"], m["fnmr_trials"], m["fnmr_ci"]) if m else "not measured"


# --- the appropriate policy document (DPA 2018 s.42) ------------------------------------------------


class PolicyStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"
    SUPERSEDED = "superseded", "Superseded by a later version"


class PolicyDocument(models.Model):
    """A controller's appropriate policy document (DPA 2018 s.42): the Schedule 8 conditions it
    relies on for sensitive processing, how it secures compliance with the principles, and how long
    it keeps and when it erases what it processes under them.

    Versioned like a DPIA: a draft is edited in place; editing an approved version makes the next
    version (a draft), which supersedes it once the controller's DPO approves it. s.42(3): the
    document is kept until six months after the processing it covers ends
    (``governance.dpia.rules.policy_kept_until``); then its texts are erased and the record that it existed
    stays (``erased_at``, a deletion certificate, an audit event).
    """

    reference = models.CharField(max_length=40, db_index=True, help_text="Shared by all versions")
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=12, choices=PolicyStatus.choices, default=PolicyStatus.DRAFT, db_index=True)
    controller = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="policy_documents",
        help_text="The controller whose policy this is: its DPO writes and approves it.",
    )
    title = models.CharField(max_length=200)
    schedule8_conditions = models.JSONField(
        default=list, blank=True, help_text="The Schedule 8 conditions relied on (Schedule8Condition values)."
    )
    compliance_procedures = models.TextField(
        blank=True, help_text="Procedures for securing compliance with the data protection principles (s.42(2)(a))."
    )
    retention_policy = models.TextField(
        blank=True, help_text="Retention and erasure of the data processed under these conditions (s.42(2)(b))."
    )
    processing_description = models.TextField(blank=True, help_text="The processing this document covers.")
    agreements = models.ManyToManyField(Agreement, related_name="policy_documents", blank=True)
    drafted_by = user_reference()
    review_on = models.DateField(help_text="When the document must be reviewed.")
    processing_ended_on = models.DateField(
        null=True, blank=True, help_text="When the processing it covers ended: the document is kept six months after."
    )
    kept_until = models.DateField(
        null=True,
        blank=True,
        db_index=True,
        help_text="Six months after the processing ended (s.42(3)): erased from the day after. Set with the end.",
    )

    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = user_reference()
    approved_by_name = models.CharField(max_length=200, blank=True)
    previous_version = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_version"
    )
    change_summary = models.TextField(blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["reference", "-version"]
        verbose_name = "appropriate policy document"
        permissions = [("approve_policydocument", "Can approve an appropriate policy document for the controller")]
        constraints = [
            models.UniqueConstraint(fields=["reference", "version"], name="policy_reference_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} v{self.version} — {self.title}"

    def concerned_organisation_ids(self) -> set[int]:
        return {i for i in (self.controller_id, self.controller.parent_id) if i}

    def get_schedule8_conditions_display(self) -> list[str]:
        from governance.agreements.models import Schedule8Condition

        labels = dict(Schedule8Condition.choices)
        return [labels.get(code, code) for code in self.schedule8_conditions]

    @property
    def review_overdue(self) -> bool:
        return self.review_on < timezone.localdate()
