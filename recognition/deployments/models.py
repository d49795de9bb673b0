"""Deployments of live face recognition, their cameras, alerts, reviews and disclosures.

What is deliberately *not* here: anything about a face that did not match. A probe below the
deployment's threshold leaves no row — only the hourly aggregate ``FaceScanCounter`` (DPA 2018
s.35: every face scanned is sensitive processing; Met policy: non-match biometric data is deleted
immediately and automatically). Frame bytes never reach the database either (see ``frames.py``).

State changes only through ``recognition.deployments.services``.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from governance.agreements.models import Agreement
from governance.fields import user_reference
from governance.organisations.models import Organisation
from governance.watchlist.models import WatchlistImage


class DeploymentStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    LIVE = "live", "Live"
    PAUSED = "paused", "Paused (needs a new watchlist review to go live again)"
    ENDED = "ended", "Ended"


class Deployment(models.Model):
    """One overt operation: a site, a time window, the agreements whose images form its watchlist.

    College of Policing LFR guidance and Bridges v South Wales Police (2020): an Authorising Officer
    approves each deployment, and the written reasons for *who* is on the watchlist and *why this
    place* are recorded (the two discretions the court found unconstrained).
    """

    reference = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    operator = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="deployments")
    site = models.CharField(max_length=200, help_text="Where: the estate, street or venue.")
    purpose = models.TextField()
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    agreements = models.ManyToManyField(
        Agreement, related_name="deployments", help_text="Agreements whose (active) images form the watchlist."
    )

    # Legacy: the Authorising Officer as the operator once typed them. Migrated into unverified
    # ``DeploymentAuthorisation`` records and no longer written: each supplying force's AO now
    # authorises in Oversight (``recognition.deployments.authorisation``).
    authorising_officer_name = models.CharField(max_length=200, blank=True)
    authorising_officer_rank = models.CharField(max_length=80, blank=True)
    authorising_officer_organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    authorising_officer = user_reference()
    authorised_at = models.DateTimeField(null=True, blank=True)
    watchlist_justification = models.TextField(help_text="Who is on the watchlist and why (categories, necessity).")
    location_justification = models.TextField(help_text="Why this place and this time.")

    match_threshold = models.FloatField(help_text="Cosine similarity at or above which a probe raises an alert.")
    # A threshold other than the engine default is a documented decision (NPL 2023: more false
    # alerts, falling disproportionately on Black subjects, at 0.58 and 0.56 than at 0.6) that each
    # supplying force's Authorising Officer authorises with the rest of the deployment.
    threshold_justification = models.TextField(blank=True)
    # Legacy (free text, no longer written): the AO's authorisation covers the threshold it saw.
    threshold_approved_by_name = models.CharField(max_length=200, blank=True)
    threshold_approved_at = models.DateTimeField(null=True, blank=True)

    public_notice = models.TextField(help_text="Signage, website and press notice: what the public was told, where.")
    public_notice_given_on = models.DateField()
    # The review desk's service level: how long an alert may wait for its reviewers before the queue
    # marks it overdue (in live recognition the person walks on within minutes). Set by the operator's
    # DPO (``recognition.deployments.review_desk``); not part of what the Authorising Officer authorises.
    review_service_level_minutes = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(240)],
        help_text="Minutes an alert may wait for its reviewers before the review queue marks it overdue.",
    )

    status = models.CharField(
        max_length=10, choices=DeploymentStatus.choices, default=DeploymentStatus.PLANNED, db_index=True
    )
    went_live_at = models.DateTimeField(null=True, blank=True)
    # The watchlist review whose images are being matched: set at go-live, and replaced by a review
    # recorded while live. Images enrolled since join only through such a review (the watchlist
    # reviewed is the watchlist matched).
    matched_review = models.ForeignKey(
        "WatchlistReview", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.TextField(blank=True)
    created_by = user_reference()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "reference"]
        permissions = [
            ("operate_deployment", "Can take a deployment live, pause or end it and record watchlist reviews"),
            ("review_alerts_deployment", "Can review a deployment's alerts"),
            ("disclose_alerts_deployment", "Can disclose a deployment's confirmed alerts"),
        ]
        constraints = [
            models.CheckConstraint(
                name="deployment_window_ordered",
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                violation_error_message="The deployment must end after it starts.",
            ),
            models.CheckConstraint(
                name="deployment_threshold_range",
                condition=models.Q(match_threshold__gt=0) & models.Q(match_threshold__lte=1),
                violation_error_message="The threshold is a similarity above 0 and at most 1.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} — {self.name}"

    @property
    def is_live(self) -> bool:
        return self.status == DeploymentStatus.LIVE

    def concerned_organisation_ids(self) -> set[int]:
        """The operator (audit scoping). A deployment's own events (planning, watchlist reviews,
        go-live) name every agreement it uses, so a supplier reading them would learn of the other
        suppliers' agreements; each supplier reads the events of the alerts on its own images."""
        return {self.operator_id}


class Camera(models.Model):
    deployment = models.ForeignKey(Deployment, on_delete=models.PROTECT, related_name="cameras")
    name = models.CharField(max_length=120)
    location = models.CharField(max_length=200)
    direction = models.CharField(max_length=120, help_text="Which way it faces, e.g. 'north along Granary Square'.")
    # The camera gateway's credential: only a SHA-256 digest of the secret is kept (like the API
    # tokens); the prefix identifies it in logs and the audit trail.
    ingest_key_prefix = models.CharField(max_length=12, blank=True, db_index=True)
    ingest_key_digest = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["deployment", "name"]
        constraints = [models.UniqueConstraint(fields=["deployment", "name"], name="camera_name_unique_per_deployment")]

    def __str__(self) -> str:
        return f"{self.name} ({self.location})"


class WatchlistReview(models.Model):
    """The pre-deployment watchlist review: required before *each* go-live (College of Policing)."""

    deployment = models.ForeignKey(Deployment, on_delete=models.PROTECT, related_name="watchlist_reviews")
    reviewed_by = user_reference(blank=False)
    reviewed_by_name = models.CharField(max_length=200)
    reviewed_at = models.DateTimeField()
    image_count = models.PositiveIntegerField(help_text="Enrolled images the watchlist held when it was reviewed.")
    image_ids = models.JSONField(default=list, help_text="Which images (ids) were reviewed.")
    notes = models.TextField()
    used_for_go_live_at = models.DateTimeField(null=True, blank=True)
    # The supplying force whose entries this review covers (``recognition.deployments.watchlists``);
    # null on reviews recorded by the operator before watchlists were composed per force.
    force = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # When its images became the ones matched for its force (go-live, or recorded while live).
    applied_at = models.DateTimeField(null=True, blank=True)
    # A change to the force's entries after the review voids it (a new review is needed to go live).
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-reviewed_at"]

    def __str__(self) -> str:
        return f"Watchlist review of {self.deployment.reference} at {self.reviewed_at:%Y-%m-%d %H:%M}"


class FaceScanCounter(models.Model):
    """Aggregate figures per camera per hour — all that remains of faces that did not match.

    Frame accounting (``recognition.deployments.ingest``). At the door a frame is either turned
    away — ``frames_refused`` (409: deployment not live) or ``frames_shed`` (429: too many in
    flight; 503: frame store or broker down) — or **accepted** (202, ``frames_accepted``). Every
    accepted frame then ends in exactly one outcome, counted in the hour it was received:
    ``frames_processed`` (matched) or ``frames_dropped`` (with a reason in ``FrameDropCounter``:
    late, expired, bytes lost, worker lost, database unavailable, ...). So for every camera and hour,
    once its frames have settled: accepted = processed + dropped (``frames_unreconciled``).
    """

    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="counters")
    hour = models.DateTimeField(help_text="Start of the hour (UTC).")
    faces_scanned = models.PositiveBigIntegerField(default=0)
    frames_accepted = models.PositiveBigIntegerField(default=0, help_text="Answered 202: handed to a worker.")
    frames_processed = models.PositiveBigIntegerField(default=0, help_text="Accepted and matched.")
    frames_dropped = models.PositiveBigIntegerField(
        default=0, help_text="Accepted but not matched; why: FrameDropCounter."
    )
    frames_shed = models.PositiveBigIntegerField(default=0, help_text="Turned away at the door: 429 or 503.")
    frames_refused = models.PositiveBigIntegerField(default=0, help_text="Turned away at the door: 409, not live.")
    alerts_raised = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-hour", "camera"]
        constraints = [models.UniqueConstraint(fields=["camera", "hour"], name="face_scan_counter_camera_hour_unique")]

    def __str__(self) -> str:
        return f"{self.camera} {self.hour:%Y-%m-%d %H}:00"


class FrameDropReason(models.TextChoices):
    """Why an accepted frame was not matched (each is one counted outcome)."""

    LATE = "late", "Older than the frame age limit when a worker reached it (queue too long)"
    EXPIRED = "expired", "Its bytes expired in the frame store before a worker reached them"
    BYTES_LOST = "bytes_lost", "Its bytes were gone before their expiry (the frame store restarted)"
    WORKER_LOST = "worker_lost", "The worker matching it died (the redelivered task found its bytes taken)"
    NOT_LIVE = "not_live", "The deployment stopped being live while it waited"
    UNREADABLE = "unreadable", "It did not decode as an image"
    DATABASE_UNAVAILABLE = "database_unavailable", "PostgreSQL stayed unreachable through the retries"
    FRAME_STORE_UNAVAILABLE = "frame_store_unavailable", "The frame store stayed unreachable through the retries"
    CACHE_UNAVAILABLE = "cache_unavailable", "The cache was unreachable while it was matched (transient)"
    TASK_LOST = "task_lost", "No outcome within its time-to-live: its task was lost (a broker crash)"
    FAILED = "failed", "Matching failed with an error (logged)"


class FrameDropCounter(models.Model):
    """Accepted frames that were not matched, per camera, hour (of receipt) and reason."""

    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="drop_counters")
    hour = models.DateTimeField(help_text="Start of the hour (UTC) the frames were received.")
    reason = models.CharField(max_length=24, choices=FrameDropReason.choices)
    frames = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-hour", "camera", "reason"]
        constraints = [
            models.UniqueConstraint(fields=["camera", "hour", "reason"], name="frame_drop_counter_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.camera} {self.hour:%Y-%m-%d %H}:00 {self.reason}: {self.frames}"


class FrameOutcome(models.Model):
    """The ledger that makes each accepted frame's outcome count exactly once.

    One row per accepted frame whose outcome was counted, keyed by the SHA-256 of its random
    frame-store key (the key itself is never stored), written in the same transaction as the
    counters. A redelivered task (``acks_late``: its worker died, or its acknowledgement was lost
    with the broker) or a retried one finds the row and counts nothing. It holds no camera, no
    image, no face: only that *some* frame was counted, and how. Pruned after
    ``OVERSIGHT_FRAME_OUTCOME_KEEP_HOURS`` (longer than any redelivery can take).
    """

    key_digest = models.CharField(max_length=64, primary_key=True)
    outcome = models.CharField(max_length=24)
    counted_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key_digest[:12]}… {self.outcome}"


class FrameAccepted(models.Model):
    """The frame ledger's first half (issue 26): one row per frame answered 202, keyed like
    ``FrameOutcome`` by the SHA-256 of its random frame-store key, written in the same transaction
    as the accepted count (``recognition/deployments/frame_ledger.py``). A row whose frame has no
    ``FrameOutcome`` after its time-to-live is settled by the sweep as ``task_lost``; rows whose
    outcome is counted are deleted by the same sweep. Holds no image and no face."""

    key_digest = models.CharField(max_length=64, primary_key=True)
    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key_digest[:12]}… camera {self.camera_id}"


class AlertStatus(models.TextChoices):
    PENDING = "pending", "Awaiting review"
    CONFIRMED = "confirmed", "Confirmed by two reviewers"
    FALSE_ALERT = "false_alert", "Closed as a false alert"


class Alert(models.Model):
    """A probe that scored at or above the deployment's threshold against a watchlist image."""

    ENCRYPTED_FIELDS = ("probe_crop", "probe_embedding")

    deployment = models.ForeignKey(Deployment, on_delete=models.PROTECT, related_name="alerts")
    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="alerts")
    # Null once the image is erased (withdrawal, retention): the alert record outlives it.
    watchlist_image = models.ForeignKey(
        WatchlistImage, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    subject_reference = models.CharField(
        max_length=64, db_index=True, help_text="Pseudonymous reference copied from the image."
    )
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="alerts")
    # Who supplied the matched image (copied from it; outlives its erasure): whose supply chain sees
    # and reviews the alert (``recognition.deployments.access``).
    supplying_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    score = models.FloatField(null=True, help_text="Best cosine similarity seen (erased with the crop at retention).")
    threshold = models.FloatField(help_text="The deployment's threshold when the alert was raised.")
    first_seen_at = models.DateTimeField(db_index=True)
    last_seen_at = models.DateTimeField()
    sightings = models.PositiveIntegerField(default=1)
    probe_crop = models.BinaryField(help_text="Fernet token of the JPEG face crop of the best sighting.")
    probe_key_id = models.CharField(max_length=16)
    # What a subject access search by face compares with (issue 12): the engine's embedding of the best
    # sighting's face, a Fernet token like the crop (same key, ``probe_key_id``), and the backend that made it
    # (``FaceEngine.backend``): a probe is only compared with a face read by the same detector, embedder and
    # weights. Written with the crop, erased with it.
    probe_embedding = models.BinaryField(default=b"", blank=True, help_text="Fernet token of the float32 embedding.")
    probe_backend = models.CharField(max_length=160, blank=True)
    # When the probe (crop and embedding) was last written or erased: lets a search process refresh its
    # decrypted copy of the probes incrementally (``recognition.deployments.subject_access.probe_index``).
    probe_changed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    retention_due_at = models.DateTimeField(db_index=True)
    # Set while repeat sightings may attach (same image, same deployment, within the dedup window).
    # Unique, so two workers seeing the same person at once cannot both open an alert.
    open_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    status = models.CharField(max_length=12, choices=AlertStatus.choices, default=AlertStatus.PENDING, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=20, blank=True)
    # Set when retention erased the alert data (crop, score, link to the image); the record of
    # when and where an alert happened stays for statistics and the disclosure trail.
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-first_seen_at"]
        indexes = [
            # The retention sweep's query: due and not yet erased, paged by primary key.
            models.Index(
                fields=["retention_due_at", "id"],
                name="alert_retention_due_idx",
                condition=models.Q(erased_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"Alert #{self.pk} ({self.subject_reference}, {self.deployment.reference})"

    def concerned_organisation_ids(self) -> set[int]:
        return {self.supplying_organisation_id, self.deployment.operator_id}

    @property
    def status_label(self) -> str:
        """The status in words, naming why a rejected alert was closed (not always "false alert")."""
        if self.status == AlertStatus.FALSE_ALERT and self.close_reason:
            return f"Closed: {RejectionReason(self.close_reason).label.lower()}"
        return self.get_status_display()


class ReviewDecision(models.TextChoices):
    CONFIRM = "confirm", "Confirm: it is the person"
    REJECT = "reject", "Reject"


class RejectionReason(models.TextChoices):
    FALSE_ALERT = "false_alert", "False alert"
    POOR_IMAGE = "poor_image", "Image too poor to judge"
    NOT_THE_PERSON = "not_the_person", "Not the person"


class AlertReview(models.Model):
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="reviews")
    reviewer = user_reference(blank=False)
    reviewer_name = models.CharField(max_length=200)
    reviewer_organisation = models.CharField(max_length=200, blank=True)
    as_police_reviewer = models.BooleanField(default=False)
    decision = models.CharField(max_length=10, choices=ReviewDecision.choices)
    reason = models.CharField(max_length=20, choices=RejectionReason.choices, blank=True)
    notes = models.TextField(blank=True)
    decided_at = models.DateTimeField()
    # What this reviewer had been shown when they decided, as recorded server-side by the review page's
    # image endpoints (``AlertImageShown``): the latest serving of each image to them for this alert, or
    # null when it was never served. A confirmation needs both (``rules.reviewer_shown_both``).
    crop_shown_at = models.DateTimeField(null=True, blank=True)
    reference_shown_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["decided_at"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "reviewer"], name="alert_review_one_per_reviewer"),
            models.CheckConstraint(
                name="alert_review_rejection_has_reason",
                condition=~models.Q(decision="reject") | ~models.Q(reason=""),
                violation_error_message="A rejection needs its reason.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} by {self.reviewer_name} on alert #{self.alert_id}"


class ReviewImage(models.TextChoices):
    CROP = "crop", "Camera crop"
    REFERENCE = "reference", "Enrolled watchlist image"
    # The review queue's small thumbnails: recorded and audited like the others, but a thumbnail is not
    # the side-by-side comparison a confirmation needs (``rules.shown_to`` reads only the two above).
    CROP_THUMBNAIL = "crop_thumb", "Camera crop (queue thumbnail)"
    REFERENCE_THUMBNAIL = "ref_thumb", "Enrolled watchlist image (queue thumbnail)"


class AlertImageShown(models.Model):
    """One image of an alert served to one reviewer: written by the service behind the review page's
    image endpoint in the same transaction as its ``consultation`` event, when the bytes are handed out,
    never from what a browser says it displayed. What a reviewer was shown (UK GDPR Art. 22: a
    confirmation made without the reference image is not meaningful human involvement)."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="images_shown")
    reviewer = user_reference(blank=False)
    image = models.CharField(max_length=10, choices=ReviewImage.choices)
    shown_at = models.DateTimeField()

    class Meta:
        ordering = ["shown_at", "pk"]
        indexes = [models.Index(fields=["alert", "reviewer", "image"], name="alert_image_shown_idx")]

    def __str__(self) -> str:
        return f"{self.get_image_display()} of alert #{self.alert_id} shown to user {self.reviewer_id}"


class DisclosureChannel(models.TextChoices):
    CJSM_EMAIL = "cjsm_email", "Criminal-justice secure email (CJSM)"
    OVERSIGHT_API = "oversight_api", "Oversight API (force collects)"
    TELEPHONE = "telephone", "Telephone to the force control room"
    IN_PERSON = "in_person", "In person to an officer on site"


class Outcome(models.TextChoices):
    NO_ACTION = "no_action", "No action taken"
    NOT_LOCATED = "not_located", "Not located"
    SPOKEN_TO = "spoken_to", "Spoken to"
    SAFEGUARDED = "safeguarded", "Safeguarded (missing or vulnerable person)"
    ARRESTED = "arrested", "Arrested"
    WRONG_PERSON = "wrong_person", "Not the person on the watchlist"
    OTHER = "other", "Other (see notes)"


class EthnicGroup(models.TextChoices):
    """The person's ethnic group as the officer recorded it at the engagement, in the five
    high-level groups of the ONS census classification only (never a finer category, never a name):
    the reports count false alerts by group, the way the Met publishes its figures. Optional."""

    NOT_RECORDED = "", "Not recorded"
    ASIAN = "asian", "Asian or Asian British"
    BLACK = "black", "Black, Black British, Caribbean or African"
    MIXED = "mixed", "Mixed or multiple ethnic groups"
    WHITE = "white", "White"
    OTHER = "other", "Other ethnic group"


class Disclosure(models.Model):
    """A confirmed alert sent to the force that supplied the image (a DPA 2018 s.62 disclosure)."""

    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, related_name="disclosures")
    recipient_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="disclosures_received"
    )
    recipient = models.CharField(max_length=300, help_text="Who received it, e.g. the LFR desk's CJSM address.")
    channel = models.CharField(max_length=20, choices=DisclosureChannel.choices)
    justification = models.TextField()
    disclosed_by = user_reference(blank=False)
    disclosed_by_name = models.CharField(max_length=200)
    disclosed_at = models.DateTimeField(db_index=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    outcome_notes = models.TextField(blank=True)
    outcome_ethnic_group = models.CharField(max_length=8, choices=EthnicGroup.choices, blank=True, default="")
    outcome_reported_at = models.DateTimeField(null=True, blank=True)
    outcome_reported_by = user_reference(blank=False)
    outcome_reported_by_name = models.CharField(max_length=200, blank=True)
    # Retention blanks the recipient, justification and notes after their own period.
    redacted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-disclosed_at"]
        permissions = [("report_outcome_disclosure", "Can report what the force did after a disclosure")]

    def __str__(self) -> str:
        return f"Disclosure #{self.pk} of alert #{self.alert_id} to {self.recipient_organisation}"


class OutcomeCorrection(models.Model):
    """One correction of a disclosure's outcome: the value it replaced and why."""

    disclosure = models.ForeignKey(Disclosure, on_delete=models.CASCADE, related_name="outcome_corrections")
    previous_outcome = models.CharField(max_length=20, choices=Outcome.choices)
    previous_notes = models.TextField(blank=True)
    previous_reported_at = models.DateTimeField(null=True, blank=True)
    previous_reported_by_name = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    reason = models.TextField()
    corrected_by = user_reference(blank=False)
    corrected_by_name = models.CharField(max_length=200)
    corrected_at = models.DateTimeField()

    class Meta:
        ordering = ["corrected_at", "pk"]

    def __str__(self) -> str:
        return f"Correction of disclosure #{self.disclosure_id}: {self.previous_outcome} → {self.outcome}"


# Models of this app kept in their own module (the police's decisions on a deployment).
from recognition.deployments.authorisation_models import (  # noqa: E402, F401
    AuthorisationDecision,
    ContinueDecision,
    DeploymentAuthorisation,
    PostDeploymentReview,
)

# A deployment's watchlist entries (composed by the supplying force): in their own module.
from recognition.deployments.watchlist_models import DeploymentWatchlistEntry  # noqa: E402, F401
