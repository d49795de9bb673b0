"""Subject requests: a data subject exercising a right (access, rectification, erasure, restriction,
objection) through the DPO of the organisation that received the request.

What is stored is the request and the decisions about it: who asked, under which regime, the
deadline's inputs (receipt, clock pauses, extension), which items the DPO confirmed as being about
the person (an ``ItemRef`` text, who, when — never a candidate's crop or score alone), what was
restricted and why, what each right's action did, and the exported response (encrypted, with its
own retention rule). The personal data itself stays where it lives; providers read it at export.

State changes only through ``governance.subject_access.services``.
"""

from __future__ import annotations

from django.db import models

from governance.fields import user_reference
from governance.organisations.models import Organisation


class Regime(models.TextChoices):
    UK_GDPR = "uk_gdpr", "UK GDPR (an operator's processing)"
    DPA_PART3 = "dpa_part3", "DPA 2018 Part 3 (law-enforcement processing by a force)"


class SubjectRight(models.TextChoices):
    ACCESS = "access", "Access"
    RECTIFICATION = "rectification", "Rectification"
    ERASURE = "erasure", "Erasure"
    RESTRICTION = "restriction", "Restriction of processing"
    OBJECTION = "objection", "Objection"


# Where each right is in each regime (the request shows it; objection has no Part 3 counterpart).
RIGHT_PROVISIONS: dict[str, dict[str, str]] = {
    Regime.UK_GDPR: {
        SubjectRight.ACCESS: "UK GDPR Art. 15",
        SubjectRight.RECTIFICATION: "UK GDPR Art. 16",
        SubjectRight.ERASURE: "UK GDPR Art. 17",
        SubjectRight.RESTRICTION: "UK GDPR Art. 18",
        SubjectRight.OBJECTION: "UK GDPR Art. 21",
    },
    Regime.DPA_PART3: {
        SubjectRight.ACCESS: "DPA 2018 s.45",
        SubjectRight.RECTIFICATION: "DPA 2018 s.46",
        SubjectRight.ERASURE: "DPA 2018 s.47",
        SubjectRight.RESTRICTION: "DPA 2018 s.47",
    },
}


class RequestStatus(models.TextChoices):
    OPEN = "open", "Open (clock running)"
    AWAITING_IDENTITY = "awaiting_identity", "Awaiting proof of identity (the month starts when it arrives)"
    AWAITING_FEE = "awaiting_fee", "Awaiting the fee (the month starts when it is paid)"
    AWAITING_CLARIFICATION = "awaiting_clarification", "Awaiting clarification (clock stopped)"
    RESPONDED = "responded", "Responded"
    REFUSED = "refused", "Refused"
    WITHDRAWN = "withdrawn", "Withdrawn by the requester"


CLOCK_STOPPED_STATUSES = (
    RequestStatus.AWAITING_IDENTITY,
    RequestStatus.AWAITING_FEE,
    RequestStatus.AWAITING_CLARIFICATION,
)
CLOSED_STATUSES = (RequestStatus.RESPONDED, RequestStatus.REFUSED, RequestStatus.WITHDRAWN)


class SubjectRequest(models.Model):
    reference = models.CharField(max_length=40, unique=True)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="subject_requests",
        help_text="The organisation that received the request and answers it (its DPO acts).",
    )
    referred_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals",
        help_text="The request another controller referred to this organisation (two controllers).",
    )
    regime = models.CharField(max_length=12, choices=Regime.choices)
    right = models.CharField(max_length=16, choices=SubjectRight.choices)
    # The requester (the data subject, or someone acting for them).
    requester_name = models.CharField(max_length=200)
    requester_contact = models.TextField(help_text="Postal or e-mail address the response goes to.")
    acting_for_subject = models.CharField(
        max_length=200, blank=True, help_text="Where someone else asks for the subject: who, and their authority."
    )
    request_text = models.TextField(help_text="What the requester asked for, in their words.")
    subject_references = models.JSONField(default=list, blank=True, help_text="Pseudonymous references given.")
    case_references = models.JSONField(default=list, blank=True, help_text="Custody or case references given.")
    received_on = models.DateField(help_text="The day the request was received: the clock starts here.")
    identity_verified_how = models.TextField(blank=True)
    identity_verified_by_name = models.CharField(max_length=200, blank=True)
    identity_verified_on = models.DateField(null=True, blank=True)

    status = models.CharField(max_length=24, choices=RequestStatus.choices, default=RequestStatus.OPEN, db_index=True)
    # The deadline as last computed by ``governance.subject_access.deadlines`` (stored so lists and the
    # dashboard sort and filter by it with an index); ``None`` while the clock is stopped.
    due_on = models.DateField(null=True, blank=True, db_index=True)
    extension_months = models.PositiveSmallIntegerField(default=0)
    extension_reason = models.TextField(blank=True)
    extension_notified_on = models.DateField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closing_note = models.TextField(blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = user_reference()
    created_by_name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-received_on", "-pk"]
        permissions = [("search_subjectrequest", "Can search personal data for a subject request")]
        indexes = [models.Index(fields=["organisation", "status", "due_on"], name="subject_request_org_due_idx")]

    def __str__(self) -> str:
        return self.reference

    def concerned_organisation_ids(self) -> set[int]:
        ids = {self.organisation_id}
        if self.referred_from_id:
            ids.add(self.referred_from.organisation_id)
        return ids

    @property
    def provision(self) -> str:
        return RIGHT_PROVISIONS.get(self.regime, {}).get(self.right, "")

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES


class PauseReason(models.TextChoices):
    """What the controller asked the requester for; ``deadlines`` says how each moves the clock."""

    IDENTITY = "identity", "Proof of identity asked for (the month starts again on receipt, s.54(3)(b))"
    FEE = "fee", "A fee asked for (the month starts again when paid, s.54(3)(c))"
    CLARIFICATION = "clarification", "Clarification asked for (days from asking to answer do not count, s.54(3C))"


class FeeGround(models.TextChoices):
    """When a fee may be charged (``deadlines.FEE_GROUNDS``: UK GDPR Art. 12(5), 15(3); DPA 2018 s.53)."""

    MANIFESTLY_UNFOUNDED = "manifestly_unfounded", "Manifestly unfounded request"
    MANIFESTLY_EXCESSIVE = "manifestly_excessive", "Manifestly excessive request"
    FURTHER_COPIES = "further_copies", "Further copies (UK GDPR Art. 15(3))"


class SubjectRequestPause(models.Model):
    """Something asked of the requester: asked on ``stopped_on``, received on ``restarted_on``
    (empty while awaited). Identity and a fee restart the month from ``restarted_on``; a
    clarification excludes the days from ``stopped_on`` to ``restarted_on``, both included."""

    request = models.ForeignKey(SubjectRequest, on_delete=models.CASCADE, related_name="pauses")
    reason = models.CharField(max_length=16, choices=PauseReason.choices)
    stopped_on = models.DateField()
    restarted_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)
    fee_ground = models.CharField(max_length=24, choices=FeeGround.choices, blank=True)
    recorded_by_name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["stopped_on", "pk"]

    def __str__(self) -> str:
        return f"{self.request} paused {self.stopped_on}–{self.restarted_on or '…'}"


class ItemDecision(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed as about the subject"
    DISMISSED = "dismissed", "Dismissed (not the subject)"


class RestrictionBasis(models.TextChoices):
    """Why an item may be withheld: DPA 2018 s.45(4)(a)-(e) (Part 3), UK GDPR Sch. 2 para 2."""

    S45_4_A = "s45_4_a", "s.45(4)(a): avoid obstructing an inquiry, investigation or procedure"
    S45_4_B = (
        "s45_4_b",
        "s.45(4)(b): avoid prejudicing the prevention, detection, investigation or prosecution of offences",
    )
    S45_4_C = "s45_4_c", "s.45(4)(c): protect public security"
    S45_4_D = "s45_4_d", "s.45(4)(d): protect national security"
    S45_4_E = "s45_4_e", "s.45(4)(e): protect the rights and freedoms of others"
    SCH2_PARA2 = "sch2_para2", "DPA 2018 Sch. 2 para 2: crime and taxation (UK GDPR)"


class SubjectRequestItem(models.Model):
    """The DPO's decision on one candidate: the item's reference (``kind:key``), who, when.
    A restriction withholds a confirmed item from the response with its recorded reason."""

    request = models.ForeignKey(SubjectRequest, on_delete=models.CASCADE, related_name="items")
    ref = models.CharField(max_length=120, help_text="ItemRef text, kind:key")
    decision = models.CharField(max_length=12, choices=ItemDecision.choices)
    found_by = models.CharField(max_length=40, blank=True)
    decided_by = user_reference()
    decided_by_name = models.CharField(max_length=200, blank=True)
    decided_at = models.DateTimeField()
    restricted = models.BooleanField(default=False)
    restriction_basis = models.CharField(max_length=12, choices=RestrictionBasis.choices, blank=True)
    restriction_reason = models.TextField(blank=True)
    neither_confirm_nor_deny = models.BooleanField(default=False)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["request", "ref"], name="subject_request_item_unique")]

    def __str__(self) -> str:
        return f"{self.request} {self.ref} ({self.decision})"


class ActionOutcome(models.TextChoices):
    DONE = "done", "Done"
    REFUSED = "refused", "Refused (reason recorded)"


class SubjectRequestAction(models.Model):
    """What a right did to one item: rectification (before/after), erasure (certificates),
    restriction (on/off) — or why it could not be given effect."""

    request = models.ForeignKey(SubjectRequest, on_delete=models.CASCADE, related_name="actions")
    right = models.CharField(max_length=16, choices=SubjectRight.choices)
    ref = models.CharField(max_length=120)
    outcome = models.CharField(max_length=8, choices=ActionOutcome.choices)
    field = models.CharField(max_length=60, blank=True)
    before = models.TextField(blank=True)
    after = models.TextField(blank=True)
    reason = models.TextField()
    certificate_ids = models.JSONField(default=list, blank=True)
    acted_by_name = models.CharField(max_length=200, blank=True)
    acted_at = models.DateTimeField()

    class Meta:
        ordering = ["acted_at", "pk"]

    def __str__(self) -> str:
        return f"{self.request} {self.right} {self.ref}: {self.outcome}"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    BUILDING = "building", "Building"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"
    ERASED = "erased", "Erased (retention)"


class SubjectRequestExport(models.Model):
    """The response as exported: a PDF and its machine-readable JSON, both encrypted at rest, kept
    until ``kept_until`` (``subject_request_export.kept_until`` retention rule) and then erased."""

    ENCRYPTED_FIELDS = ("pdf_ciphertext", "json_ciphertext")

    request = models.ForeignKey(SubjectRequest, on_delete=models.PROTECT, related_name="exports")
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=120, blank=True)
    error = models.TextField(blank=True)
    requested_by = user_reference()
    requested_by_name = models.CharField(max_length=200, blank=True)
    requested_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    pdf_ciphertext = models.BinaryField(null=True, blank=True)
    json_ciphertext = models.BinaryField(null=True, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    json_sha256 = models.CharField(max_length=64, blank=True)
    key_id = models.CharField(max_length=16, blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    kept_until = models.DateField(null=True, blank=True, db_index=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"Export #{self.pk} of {self.request}"

    def concerned_organisation_ids(self) -> set[int]:
        return self.request.concerned_organisation_ids()


class PhotoSearchStatus(models.TextChoices):
    QUEUED = "queued", "Searching"
    DONE = "done", "Done"
    REFUSED = "refused", "Refused"


class SubjectPhotoSearch(models.Model):
    """A search by the requester's photo, recorded at once and run by a worker (issue 26): the web request only
    checks the photo's size, type and header decode budget and stores it encrypted; the worker decodes it, reads
    the face, asks every provider and stores the candidates (encrypted), or a coded refusal. The photo is erased
    when the worker is done with it (the face read from it is never stored), and the candidates when the searcher
    records decisions (``subject_request_decide``). Only the DPO who searched sees the results, as before."""

    ENCRYPTED_FIELDS = ("photo_ciphertext", "results_ciphertext")

    request = models.ForeignKey(SubjectRequest, on_delete=models.PROTECT, related_name="photo_searches")
    actor = user_reference()
    actor_name = models.CharField(max_length=200, blank=True)
    justification = models.TextField()
    subject_references = models.JSONField(default=list, blank=True)
    case_references = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=PhotoSearchStatus.choices, default=PhotoSearchStatus.QUEUED)
    photo_ciphertext = models.BinaryField(null=True, blank=True)
    photo_erased_at = models.DateTimeField(null=True, blank=True)
    results_ciphertext = models.BinaryField(null=True, blank=True)
    results_erased_at = models.DateTimeField(null=True, blank=True)
    candidate_count = models.PositiveIntegerField(null=True, blank=True)
    refusal_code = models.CharField(max_length=60, blank=True)
    refusal_message = models.TextField(blank=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Photo search #{self.pk} of {self.request}"

    def concerned_organisation_ids(self) -> set[int]:
        return self.request.concerned_organisation_ids()


class NoticeException(models.TextChoices):
    """UK GDPR Art. 19: recipients are told "unless this proves impossible or involves
    disproportionate effort" (DPA 2018 s.48(2)-(3) for Part 3 rectification and erasure)."""

    IMPOSSIBLE = "impossible", "Telling the recipient proves impossible"
    DISPROPORTIONATE = "disproportionate", "Telling the recipient involves disproportionate effort"


class RecipientNotification(models.Model):
    """A rectification or erasure told to an organisation the item had been disclosed to (UK GDPR
    Art. 19; DPA 2018 s.48): a task on that organisation's home page until its DPO acknowledges it,
    or an exception the law allows recorded by the sender. State changes through
    ``governance.subject_access.recipients``."""

    request = models.ForeignKey(SubjectRequest, on_delete=models.PROTECT, related_name="recipient_notifications")
    action = models.ForeignKey("SubjectRequestAction", on_delete=models.PROTECT, related_name="notifications")
    recipient = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="rights_notifications")
    what = models.TextField(help_text="What was done, in plain words (no more than the recipient needs to act).")
    sent_at = models.DateTimeField()
    sent_by_name = models.CharField(max_length=200)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by_name = models.CharField(max_length=200, blank=True)
    acknowledgement_note = models.TextField(blank=True)
    exception = models.CharField(max_length=20, choices=NoticeException.choices, blank=True)
    exception_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["sent_at", "pk"]
        indexes = [models.Index(fields=["recipient", "acknowledged_at"], name="rights_notice_recipient_idx")]

    def __str__(self) -> str:
        return f"{self.request} → {self.recipient}"

    def concerned_organisation_ids(self) -> set[int]:
        return {self.request.organisation_id, self.recipient_id}

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None and not self.exception


class ConsultationDecision(models.TextChoices):
    RELEASE = "release", "Release"
    RESTRICT = "restrict", "Restrict (DPA 2018 s.45(4))"


class SupplierConsultation(models.Model):
    """Before a response releases data a police force supplied, the force is asked; it decides
    whether any s.45(4) restriction applies. The requesting controller sees the decision and the
    provision relied on, never ``reasoning`` (the force's own). Through
    ``governance.subject_access.consultation``."""

    request = models.ForeignKey(SubjectRequest, on_delete=models.PROTECT, related_name="consultations")
    force = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="rights_consultations")
    refs = models.JSONField(default=list, help_text="The confirmed items (ItemRef text) the force supplied.")
    asked_at = models.DateTimeField()
    asked_by_name = models.CharField(max_length=200)
    decision = models.CharField(max_length=10, choices=ConsultationDecision.choices, blank=True)
    basis = models.CharField(max_length=12, choices=RestrictionBasis.choices, blank=True)
    neither_confirm_nor_deny = models.BooleanField(default=False)
    reasoning = models.TextField(blank=True, help_text="The force's reasons: seen by the force only.")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by_name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["asked_at", "pk"]
        indexes = [models.Index(fields=["force", "decided_at"], name="rights_consult_force_idx")]

    def __str__(self) -> str:
        return f"{self.request} consults {self.force}"

    def concerned_organisation_ids(self) -> set[int]:
        return {self.request.organisation_id, self.force_id}
