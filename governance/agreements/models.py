"""Data-sharing agreements: the central register.

Contents follow the ICO data sharing code (purpose, parties, data items, lawful basis, special
category / criminal offence data, individual rights, retention and deletion, security, breach
handling, review, termination, sanctions). State changes only through
``governance.agreements.services``.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from governance.fields import user_reference
from governance.organisations.models import Organisation


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for approval"
    APPROVED = "approved", "Approved (not yet started)"
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    TERMINATED = "terminated", "Terminated"
    SUPERSEDED = "superseded", "Superseded by an amendment"


# States in which images may flow under the agreement (checked by the watchlist upload, later).
SHARING_STATES = {AgreementStatus.ACTIVE}
ENDED_STATES = {AgreementStatus.EXPIRED, AgreementStatus.TERMINATED, AgreementStatus.SUPERSEDED}


class CustodyCategory(models.TextChoices):
    """Why a person is on a watchlist. The APP categories (College of Policing guidance on live
    facial recognition) are the only ones a new agreement or upload may use
    (``governance.agreements.rules.APP_WATCHLIST_CATEGORIES``); the 2016 custody categories remain
    for the historical King's Cross records only (people "arrested and charged/cautioned/reprimanded
    or given a formal warning"), where the register shows them as a rule that agreement broke."""

    ARRESTED = "arrested", "Arrested"
    CHARGED = "charged", "Charged"
    CAUTIONED = "cautioned", "Cautioned"
    REPRIMANDED = "reprimanded", "Reprimanded"
    FORMAL_WARNING = "formal_warning", "Given a formal warning"
    WANTED = "wanted", "Wanted by police or the courts"
    SUSPECT = "suspect", "Suspect"
    MISSING = "missing", "Missing person"
    VULNERABLE = "vulnerable", "Vulnerable person"
    RISK_OF_HARM = "risk_of_harm", "At risk of harm to self or others"


class Section35Basis(models.TextChoices):
    """DPA 2018 s.35(5): sensitive processing for law enforcement needs strict necessity plus a
    Schedule 8 condition (or consent, s.35(4), which is not available for watchlists)."""

    STRICTLY_NECESSARY = "s35_5", "s.35(5) strictly necessary for the law enforcement purpose"


class Article6Basis(models.TextChoices):
    """UK GDPR Art. 6(1): the operator's own lawful basis for scanning faces (it is a controller
    under UK GDPR, not a competent authority under DPA 2018 Part 3)."""

    LEGAL_OBLIGATION = "art6_1_c", "Art. 6(1)(c) legal obligation"
    PUBLIC_TASK = "art6_1_e", "Art. 6(1)(e) public task"
    LEGITIMATE_INTERESTS = "art6_1_f", "Art. 6(1)(f) legitimate interests"


class Article9Condition(models.TextChoices):
    """UK GDPR Art. 9(2): the condition for processing biometric data for unique identification."""

    SUBSTANTIAL_PUBLIC_INTEREST = "art9_2_g", "Art. 9(2)(g) substantial public interest"
    LEGAL_CLAIMS = "art9_2_f", "Art. 9(2)(f) legal claims"


class Schedule1Condition(models.TextChoices):
    """DPA 2018 Schedule 1 Part 2: the substantial public interest condition Art. 9(2)(g) relies on
    (DPA 2018 s.10(3)); with it, the operator needs its own appropriate policy document (Sch. 1 Part 4)."""

    PREVENTING_CRIME = "sch1_10", "Sch. 1 para 10: preventing or detecting unlawful acts"
    PROTECTING_PUBLIC = "sch1_11", "Sch. 1 para 11: protecting the public against dishonesty etc."
    SAFEGUARDING = "sch1_18", "Sch. 1 para 18: safeguarding of children and individuals at risk"


class Schedule8Condition(models.TextChoices):
    STATUTORY_PURPOSES = "sch8_1", "Sch. 8 para 1: statutory etc. purposes"
    JUSTICE = "sch8_2", "Sch. 8 para 2: administration of justice"
    VITAL_INTERESTS = "sch8_3", "Sch. 8 para 3: protecting individual's vital interests"
    SAFEGUARDING = "sch8_4", "Sch. 8 para 4: safeguarding of children and individuals at risk"
    LEGAL_CLAIMS = "sch8_6", "Sch. 8 para 6: legal claims"
    JUDICIAL_ACTS = "sch8_7", "Sch. 8 para 7: judicial acts"
    FRAUD = "sch8_8", "Sch. 8 para 8: preventing fraud"


def signed_document_path(instance: Agreement, filename: str) -> str:
    return f"agreements/{instance.reference}/v{instance.version}/{filename}"


class AgreementQuerySet(models.QuerySet):
    def sharing(self) -> AgreementQuerySet:
        """Agreements under which images flow now ("is this agreement sharing", ``SHARING_STATES``)."""
        return self.filter(status__in=SHARING_STATES)

    def sharing_versions(self) -> AgreementQuerySet:
        """For agreements chosen earlier (a deployment's): the version of each that is sharing now.

        An approved amendment supersedes the version it amends and carries its images over
        (``watchlist_images_carry_to_amendment``), so what was chosen follows the amendment; a
        renewal is a new agreement (new reference) and must be chosen anew.
        """
        return Agreement.objects.filter(reference__in=self.values("reference"), status__in=SHARING_STATES)


class Agreement(models.Model):
    reference = models.CharField(max_length=40, db_index=True, help_text="Register reference, shared by all versions")
    version = models.PositiveIntegerField(default=1)
    title = models.CharField(max_length=200)
    status = models.CharField(
        max_length=20, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT, db_index=True
    )

    # Parties.
    supplying_organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="agreements_supplying",
        help_text="The police force or unit that supplies watchlist images.",
    )
    receiving_organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="agreements_receiving",
        help_text="The operator that receives them and runs face recognition.",
    )

    # ICO data sharing code contents. Blank is allowed while drafting (and in historical records);
    # agreement_submit refuses an agreement until every one is stated.
    purpose = models.TextField()
    data_items = models.TextField(help_text="Exactly which data items are shared.")
    lawful_basis = models.CharField(
        max_length=10, choices=Section35Basis.choices, default=Section35Basis.STRICTLY_NECESSARY
    )
    schedule8_condition = models.CharField(max_length=10, choices=Schedule8Condition.choices)
    special_category_data = models.TextField(
        blank=True, help_text="Special category and criminal offence data shared, and why."
    )
    permitted_custody_categories = models.JSONField(default=list)
    max_images = models.PositiveIntegerField(help_text="Most watchlist images that may be shared at any one time.")
    starts_on = models.DateField()
    ends_on = models.DateField()
    review_on = models.DateField()
    # Retention terms. Non-match biometric data is deleted immediately, always: not a term.
    match_retention_days = models.PositiveIntegerField(default=30, help_text="Days alert data is kept after a match.")
    watchlist_erasure_hours = models.PositiveIntegerField(
        default=24,
        help_text="Hours within which the operator erases watchlist data after the agreement ends or an image is withdrawn.",
    )
    # A longer term than the law's bounds (``governance.agreements.rules.retention_term_problems``) only with the
    # supplying force's DPO's approval and a recorded reason: the longest terms approved, who, when, why.
    retention_extension_match_days = models.PositiveIntegerField(null=True, blank=True)
    retention_extension_watchlist_hours = models.PositiveIntegerField(null=True, blank=True)
    retention_extension_reason = models.TextField(blank=True)
    retention_extension_approved_by = user_reference()
    retention_extension_approved_by_name = models.CharField(max_length=200, blank=True)
    retention_extension_approved_at = models.DateTimeField(null=True, blank=True)
    # The operator's own lawful basis as a UK GDPR controller (DOMAIN.md: Art. 6, Art. 9, Schedule 1).
    operator_article6_basis = models.CharField(
        "operator's UK GDPR Art. 6 basis",
        max_length=10,
        choices=Article6Basis.choices,
        blank=True,
        help_text="The operator's own lawful basis for scanning faces (needed before any deployment goes live).",
    )
    operator_article9_condition = models.CharField(
        "operator's UK GDPR Art. 9 condition", max_length=10, choices=Article9Condition.choices, blank=True
    )
    operator_schedule1_condition = models.CharField(
        "operator's DPA 2018 Schedule 1 condition",
        max_length=10,
        choices=Schedule1Condition.choices,
        blank=True,
        help_text="With it, the operator needs its own approved appropriate policy document (Sch. 1 Part 4).",
    )
    police_reviewer_required = models.BooleanField(
        default=True, help_text="A police reviewer must be one of the two confirmations."
    )
    # Whether the receiving operator's reviewers may see the watchlist image (as a small, never-stored thumbnail)
    # beside an alert's camera crop. Off unless agreed: without it they review with the crop and provenance only.
    operator_reviewers_see_image = models.BooleanField(
        default=False,
        help_text="The operator's reviewers may see a thumbnail of the watchlist image beside an alert (each view audited).",
    )
    individual_rights = models.TextField(
        blank=True, help_text="How subject access and other rights requests are handled."
    )
    security_measures = models.TextField(blank=True)
    breach_handling = models.TextField(blank=True)
    termination_terms = models.TextField(blank=True)
    sanctions = models.TextField(blank=True)
    signed_document = models.FileField(upload_to=signed_document_path, blank=True)
    signed_document_sha256 = models.CharField(max_length=64, blank=True)
    # The digest of the terms the signed document was signed against (``agreement_terms_digest``); once the terms
    # change the document no longer evidences them ("signed against earlier terms — re-sign needed").
    signed_terms_digest = models.CharField(max_length=64, blank=True)

    # Lifecycle facts.
    drafted_by = user_reference()
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = user_reference()
    regulator_notified_on = models.DateField(null=True, blank=True)
    regulator_notification_reference = models.CharField(max_length=120, blank=True)
    regulator_notified_by = models.CharField(max_length=200, blank=True)
    regulator = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="agreements_notified"
    )
    countersigned_at = models.DateTimeField(null=True, blank=True)
    countersigned_by = user_reference()
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = user_reference()
    approved_by_name = models.CharField(max_length=200, blank=True)
    approving_organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="agreements_approved"
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    termination_reason = models.TextField(blank=True)
    terminated_by = user_reference()

    # Versions and renewals.
    previous_version = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_version"
    )
    predecessor = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="successors")
    amendment_summary = models.TextField(blank=True)

    # An agreement entered into the register after the fact (e.g. King's Cross 2016-2018), kept as
    # a record of what happened rather than something Oversight approved.
    recorded_retrospectively = models.BooleanField(default=False)
    historical_notes = models.TextField(blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "reference", "-version"]
        permissions = [
            ("submit_agreement", "Can submit an agreement for approval"),
            ("approve_agreement", "Can approve an agreement (force level only)"),
            ("countersign_agreement", "Can countersign an agreement for the operator"),
            ("terminate_agreement", "Can terminate an agreement"),
            ("notify_regulator_agreement", "Can record the regulator notification"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["reference", "version"], name="agreement_reference_version_unique"),
            models.CheckConstraint(
                name="agreement_ends_after_start",
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                violation_error_message="The end date must be on or after the start date.",
            ),
            models.CheckConstraint(
                name="agreement_max_images_positive",
                condition=models.Q(max_images__gt=0),
                violation_error_message="An agreement allows at least one image.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} v{self.version} — {self.title}"

    @property
    def supplying_force(self) -> Organisation | None:
        return self.supplying_organisation.force

    @property
    def is_sharing(self) -> bool:
        """ "Is this agreement sharing": images flow under it and deployments match them (``SHARING_STATES``)."""
        return self.status in SHARING_STATES

    def concerned_organisation_ids(self) -> set[int]:
        """The organisations an event about this agreement concerns (audit scoping): both parties."""
        return {self.supplying_organisation_id, self.receiving_organisation_id}

    @property
    def review_overdue(self) -> bool:
        return (
            self.status in {AgreementStatus.APPROVED, AgreementStatus.ACTIVE} and self.review_on < timezone.localdate()
        )

    @property
    def days_to_expiry(self) -> int | None:
        if self.status not in {AgreementStatus.APPROVED, AgreementStatus.ACTIVE}:
            return None
        return (self.ends_on - timezone.localdate()).days

    def custody_category_labels(self) -> list[str]:
        labels = dict(CustodyCategory.choices)
        return [labels.get(value, value) for value in self.permitted_custody_categories]


# Direct-foreign-key object permissions: deleting an agreement deletes its permission rows with it
# (guardian's generic tables would leave orphans).
class AgreementUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Agreement, on_delete=models.CASCADE)


class AgreementGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Agreement, on_delete=models.CASCADE)
