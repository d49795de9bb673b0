"""The audit log required by DPA 2018 s.62.

Each event records one of the six s.62 operations (collection, alteration, consultation, disclosure
— including transfers —, combination, erasure), who did it, when, the justification, and for a
disclosure who received the data. Events are append-only and hash-chained (see ``chain.py``): each
event carries a digest of its own content and a chain hash over the previous event's chain hash, so
that editing, deleting or reordering rows is detectable; seals (HMAC of the chain head with a key
kept outside the database) catch a rewrite that recomputes every later hash.

Redaction (retention) replaces personal fields with nothing but keeps each field's digest, so the
chain still verifies after personal data is gone.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditAction(models.TextChoices):
    """The operations DPA 2018 s.62(1) requires a log of."""

    COLLECTION = "collection", "Collection"
    ALTERATION = "alteration", "Alteration"
    CONSULTATION = "consultation", "Consultation"
    DISCLOSURE = "disclosure", "Disclosure (incl. transfer)"
    COMBINATION = "combination", "Combination"
    ERASURE = "erasure", "Erasure"
    # Not an s.62 operation: sign-ins, failures, lockouts and second-factor changes, kept in the same
    # tamper-evident chain because they answer "who could have done this" for every event above.
    AUTHENTICATION = "authentication", "Sign-in and account security"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Audit events are append-only; use audit_event_redact() for retention.")

    def delete(self):
        raise PermissionError("Audit events are append-only and cannot be deleted.")


class AuditEvent(models.Model):
    # The event's number: unique and increasing, drawn without a lock (not gapless: see sequencer.py).
    sequence = models.BigIntegerField(unique=True)
    occurred_at = models.DateTimeField(db_index=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    event = models.CharField(max_length=80, help_text="What happened, e.g. agreement.approved")
    # Actor: a reference plus copies that outlive the user's deletion.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_username = models.CharField(max_length=150, blank=True)
    actor_organisation = models.CharField(max_length=200, blank=True)
    justification = models.TextField(blank=True)
    recipient = models.CharField(max_length=300, blank=True, help_text="Who received the data (disclosures)")
    target_type = models.CharField(max_length=80)
    target_id = models.CharField(max_length=64)
    target_label = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, blank=True)
    # Integrity.
    field_digests = models.JSONField(default=dict, help_text="SHA-256 per content field, kept through redaction")
    content_digest = models.CharField(max_length=64)
    previous_hash = models.CharField(max_length=64)
    chain_hash = models.CharField(max_length=64)
    # HMAC of chain_hash with the seal key (outside the database): a rewrite that recomputes every
    # later hash still cannot recompute these, so verification names the first rewritten event.
    signature = models.CharField(max_length=64)
    # Which seal key made ``signature`` (chain.seal_key_id), so keys can be rotated. Empty on events
    # written before key ids existed: those verify against any configured key.
    signature_key_id = models.CharField(max_length=16, blank=True, default="")
    redacted_at = models.DateTimeField(null=True, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["sequence"]
        permissions = [("export_auditevent", "Can export the audit log")]
        # Every append writes every index, so there are only those a query uses (issue 23): the record's
        # events (type, id), the page's and the erasure journal's filters (action, time), the actor, and
        # the unique number and hash. No ``varchar_pattern_ops`` twins and no index on the event's name
        # (the searches are ``icontains``, which they do not serve) and no single-column type or id index
        # (the composite's prefix serves those).
        indexes = [
            models.Index(fields=["target_type", "target_id", "sequence"], name="audit_target_idx"),
            models.Index(fields=["action"], name="audit_action_idx"),
        ]
        constraints = [models.UniqueConstraint(fields=["chain_hash"], name="audit_event_chain_hash_unique")]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.event} {self.target_type}:{self.target_id}"

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only and cannot be deleted.")


class AuditEventOrganisation(models.Model):
    """An organisation an audit event is about: the actor's, and the parties of the record it names.

    Kept beside the chained row rather than in it (a row is never updated; these are inserted in the
    same transaction), so the log can be scoped by organisation with an index instead of a scan.
    """

    event = models.ForeignKey(AuditEvent, on_delete=models.PROTECT, related_name="organisation_links")
    # No index of its own: the unique (organisation, event) below starts with it.
    organisation = models.ForeignKey(
        "governance.Organisation", on_delete=models.PROTECT, related_name="+", db_index=False
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "event"], name="audit_event_org_unique")]

    def __str__(self) -> str:
        return f"event {self.event_id} concerns organisation {self.organisation_id}"


class AuditSealQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Audit seals are append-only.")

    def delete(self):
        raise PermissionError("Audit seals are append-only and cannot be deleted.")


class AuditSeal(models.Model):
    """An HMAC over the chain head at a moment, keyed with ``settings.AUDIT_SEAL_KEY``.

    The key lives outside the database, so someone able to rewrite audit rows (and recompute every
    later chain hash) still cannot produce a matching seal.
    """

    sequence = models.BigIntegerField(db_index=True)
    chain_hash = models.CharField(max_length=64)
    sealed_at = models.DateTimeField()
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=64)

    objects = AuditSealQuerySet.as_manager()

    class Meta:
        ordering = ["sequence", "sealed_at"]

    def __str__(self) -> str:
        return f"seal @#{self.sequence}"


# --- the transparency log (RFC 6962): see governance/audit/sequencer.py and tlog.py ----------------


class AuditPending(models.Model):
    """An event its service's transaction appended, waiting for the sequencer to give it a leaf.

    Inserted in the same transaction as the event (so it commits or rolls back with it), deleted by
    the sequencer in the transaction that adds the leaf: an event is always pending or a leaf, never
    both, never neither. The leaf hash is computed by the writer, before and outside any lock.
    """

    event = models.OneToOneField(AuditEvent, primary_key=True, on_delete=models.PROTECT, related_name="+")
    leaf_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"event {self.event_id} pending"


class AppendOnlyTreeQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit tree is append-only.")

    def delete(self):
        raise PermissionError("The audit tree is append-only.")


class AuditLeaf(models.Model):
    """Leaf ``index`` of the Merkle tree: which event, and its RFC 6962 leaf hash."""

    index = models.BigIntegerField(primary_key=True)
    event = models.OneToOneField(AuditEvent, on_delete=models.PROTECT, related_name="leaf")
    leaf_hash = models.CharField(max_length=64)

    objects = AppendOnlyTreeQuerySet.as_manager()

    class Meta:
        ordering = ["index"]

    def __str__(self) -> str:
        return f"leaf {self.index}"


# A tree node's key: its level (>= 1; level 0 is AuditLeaf) and its index at that level.
NODE_LEVEL_SHIFT = 48


def node_key(level: int, index: int) -> int:
    return (level << NODE_LEVEL_SHIFT) | index


class AuditTreeNode(models.Model):
    """The hash of a complete (perfect) subtree: leaves index*2**level to (index+1)*2**level - 1.

    About one per leaf in all; any root, inclusion or consistency proof reads O(log n) of them.
    """

    key = models.BigIntegerField(primary_key=True)
    hash = models.CharField(max_length=64)

    objects = AppendOnlyTreeQuerySet.as_manager()

    def __str__(self) -> str:
        return f"node {self.key >> NODE_LEVEL_SHIFT}/{self.key & ((1 << NODE_LEVEL_SHIFT) - 1)}"


class AuditTreeHead(models.Model):
    """A signed tree head (Ed25519): the log had ``tree_size`` leaves with root ``root_hash``.

    The first head after the migration also records the old hash chain (its length and final
    hash), whose events are the tree's first leaves.
    """

    tree_size = models.BigIntegerField(db_index=True)
    root_hash = models.CharField(max_length=64)
    issued_at = models.CharField(max_length=40, help_text="ISO 8601, as signed")
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=120)
    legacy_chain_size = models.BigIntegerField(default=0)
    legacy_chain_hash = models.CharField(max_length=64, blank=True, default="")

    objects = AppendOnlyTreeQuerySet.as_manager()

    class Meta:
        ordering = ["tree_size", "id"]

    def __str__(self) -> str:
        return f"tree head size {self.tree_size}"

    def as_dict(self) -> dict:
        from governance.audit import tlog

        return {
            "format": tlog.HEAD_FORMAT,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "issued_at": self.issued_at,
            "key_id": self.key_id,
            "legacy_chain_size": self.legacy_chain_size,
            "legacy_chain_hash": self.legacy_chain_hash,
            "signature": self.signature,
        }


class AuditHeadReceipt(models.Model):
    """A signed tree head handed to an organisation in its pack (the regulator's, a DPO's): the next pack
    carries the consistency proof from this head to the then latest, so the receiver confirms from the pack
    alone that the log it saw before is a prefix of today's. Bookkeeping of what was handed out, no
    personal data."""

    organisation = models.ForeignKey("governance.Organisation", on_delete=models.CASCADE, related_name="+")
    head = models.ForeignKey(AuditTreeHead, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["organisation", "-received_at", "-id"]
        indexes = [models.Index(fields=["organisation", "-received_at"], name="audit_head_receipt_org")]


class AuditVerificationStatus(models.TextChoices):
    RUNNING = "running", "Running"
    PASSED = "passed", "Intact"
    FAILED = "failed", "Problems found"


class AuditVerification(models.Model):
    """One run of the whole log's verification (``audit_chain_verify``), started by beat (nightly) or by a
    DPO or the regulator from the audit page; the page shows the latest and its progress."""

    status = models.CharField(max_length=10, choices=AuditVerificationStatus.choices, default="running")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by_name = models.CharField(max_length=200, blank=True, help_text="Empty when beat started it")
    tree_size = models.BigIntegerField(default=0, help_text="Leaves in the latest head when it started")
    events_checked = models.BigIntegerField(default=0)
    heads_checked = models.IntegerField(default=0)
    problems = models.JSONField(default=list)

    class Meta:
        ordering = ["-started_at", "-id"]
