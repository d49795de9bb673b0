"""Writing, sealing, verifying and redacting the audit log.

``audit_record`` must be called *inside* the transaction of the service whose action it records,
so the event and the change it describes commit or roll back together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone

from governance.audit import chain
from governance.audit.models import AuditAction, AuditEvent, AuditEventOrganisation, AuditSeal
from governance.errors import PermissionRefused

# Arbitrary constant identifying the audit chain's advisory lock on PostgreSQL.
_AUDIT_CHAIN_LOCK_ID = 620_062

# ``select_for_update(**ROW_LOCK)`` for every row lock a service takes before ``audit_record`` (which
# holds the chain lock until commit): the row itself only, FOR NO KEY UPDATE. At commit each audited
# transaction checks its deferred foreign keys (actor, organisations, agreement, image) with KEY
# SHARE locks; a FOR UPDATE of such a row — or of organisation rows joined into the locking query —
# blocks that check while its holder queues for the chain: a deadlock, found by the mixed load test
# (tests/governance/test_audit_lock_order.py).
ROW_LOCK = {"no_key": True, "of": ("self",)}


def _lock_chain() -> None:
    """Serialise appends: concurrent writers queue here, so each sees the true chain head.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: transactions begin IMMEDIATE (see
    settings), which already holds the database write lock.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_AUDIT_CHAIN_LOCK_ID])


def seal_keys() -> dict[str, str]:
    """Every configured seal key by its public id: the current one signs, all of them verify."""
    keys = [settings.AUDIT_SEAL_KEY, *settings.AUDIT_SEAL_OLD_KEYS]
    return {chain.seal_key_id(key): key for key in keys if key}


def _target_of(target: Any) -> tuple[str, str, str]:
    if isinstance(target, tuple):
        target_type, target_id, label = target
        return str(target_type), str(target_id), str(label)
    return target._meta.label_lower, str(target.pk), str(target)[:300]


def _field_values(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in chain.CHAINED_FIELDS}


def audit_record(
    *,
    action: AuditAction | str,
    event: str,
    actor: Any | None,
    target: Any,
    justification: str = "",
    recipient: str = "",
    details: dict[str, Any] | None = None,
    organisations: Iterable[int | None] = (),
) -> AuditEvent:
    """Append one s.62 event to the chain.

    Transaction: must run inside the caller's ``transaction.atomic()`` (it takes the chain lock for
    the rest of that transaction). ``target`` is a model instance or ``(type, id, label)``.
    Never put biometric data (templates, image bytes) in ``details``.

    The event is recorded as concerning the actor's organisation, the organisations the target
    names (``target.concerned_organisation_ids()``) and any ``organisations`` ids given (for a
    tuple target, e.g. a batch): that is what scopes the log (``governance.access``).
    """
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record() must be called inside the service's transaction.")
    if action not in AuditAction.values:
        raise ValueError(f"Unknown s.62 action {action!r}")
    if action == AuditAction.DISCLOSURE and not recipient:
        raise ValueError("A disclosure event must name who received the data (DPA 2018 s.62(3)(b)).")
    _lock_chain()
    head = AuditEvent.objects.order_by("-sequence").only("sequence", "chain_hash").first()
    sequence = head.sequence + 1 if head else 1
    previous_hash = head.chain_hash if head else chain.GENESIS_HASH
    target_type, target_id, target_label = _target_of(target)
    user = actor if getattr(actor, "is_authenticated", False) else None
    organisation = getattr(user, "organisation", None) if user else None
    new = AuditEvent(
        sequence=sequence,
        occurred_at=timezone.now(),
        action=str(action),
        event=event,
        actor=user,
        actor_username=user.get_username() if user else "system",
        actor_organisation=organisation.name if organisation else "",
        justification=justification,
        recipient=recipient,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label,
        details=details or {},
    )
    # Normalise values the way they will be read back (e.g. microsecond precision, JSON round trip).
    new.details = chain.json_roundtrip(new.details)
    values = _field_values(new)
    values["actor_id"] = user.pk if user else None
    new.field_digests = {name: chain.field_digest(value) for name, value in values.items()}
    new.content_digest = chain.content_digest(new.field_digests)
    new.previous_hash = previous_hash
    new.chain_hash = chain.chain_hash(previous_hash, new.content_digest, sequence)
    new.signature = chain.event_signature(settings.AUDIT_SEAL_KEY, sequence, new.chain_hash)
    new.signature_key_id = chain.seal_key_id(settings.AUDIT_SEAL_KEY)
    new.save(force_insert=True)
    concerned = set(organisations)
    if organisation is not None:
        concerned.add(organisation.pk)
    if hasattr(target, "concerned_organisation_ids"):
        concerned |= set(target.concerned_organisation_ids())
    AuditEventOrganisation.objects.bulk_create(
        [AuditEventOrganisation(event=new, organisation_id=pk) for pk in sorted(i for i in concerned if i)]
    )
    return new


def audit_seal_chain_head() -> AuditSeal | None:
    """Seal the current chain head with the key kept outside the database.

    Idempotent: sealing an already-sealed head does nothing. Run by beat every few minutes.
    """
    with transaction.atomic():
        _lock_chain()
        head = AuditEvent.objects.order_by("-sequence").only("sequence", "chain_hash").first()
        if head is None:
            return None
        if AuditSeal.objects.filter(sequence=head.sequence, chain_hash=head.chain_hash).exists():
            return None
        key = settings.AUDIT_SEAL_KEY
        return AuditSeal.objects.create(
            sequence=head.sequence,
            chain_hash=head.chain_hash,
            sealed_at=timezone.now(),
            key_id=chain.seal_key_id(key),
            signature=chain.seal_signature(key, head.sequence, head.chain_hash),
        )


@dataclass
class ChainVerification:
    events_checked: int = 0
    seals_checked: int = 0
    first_broken_sequence: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, sequence: int | None, problem: str) -> None:
        if sequence is not None and (self.first_broken_sequence is None or sequence < self.first_broken_sequence):
            self.first_broken_sequence = sequence
        self.problems.append(problem)


def audit_chain_verify(*, batch_size: int = 5000) -> ChainVerification:
    """Recompute every event's digests, chain links and signature, then check every seal.

    Detects: an edited row (content digest), a deleted row (sequence gap / broken link), a row
    rewritten with every later hash recomputed (signature and seals, which need the outside key),
    and a truncated tail (a seal pointing past the last event). Read-only; streams in batches.
    """
    keys = seal_keys()
    report = ChainVerification()
    expected_sequence = 1
    previous_hash = chain.GENESIS_HASH
    hashes_by_sequence: dict[int, str] = {}
    last_sequence = 0
    queryset = AuditEvent.objects.order_by("sequence")
    for event in queryset.iterator(chunk_size=batch_size):
        report.events_checked += 1
        seq = event.sequence
        last_sequence = seq
        if seq != expected_sequence:
            report.fail(expected_sequence, f"Event #{expected_sequence} is missing (next present is #{seq}).")
        values = _field_values(event)
        values["actor_id"] = event.actor_id
        for name in chain.CHAINED_FIELDS:
            stored = event.field_digests.get(name)
            if event.redacted_at and name in chain.REDACTABLE_FIELDS and values[name] in ("", {}, None):
                continue  # redacted: the stored digest stands for the erased value
            if name == "actor_id" and values[name] is None and stored != chain.field_digest(None):
                continue  # the user was deleted later (SET_NULL); the username copy is chained
            if stored != chain.field_digest(values[name]):
                report.fail(seq, f"Event #{seq}: field '{name}' does not match its recorded digest.")
        if set(event.field_digests) != set(chain.CHAINED_FIELDS):
            report.fail(seq, f"Event #{seq}: digest set altered.")
        elif chain.content_digest(event.field_digests) != event.content_digest:
            report.fail(seq, f"Event #{seq}: content digest does not match its fields.")
        if event.previous_hash != previous_hash:
            report.fail(seq, f"Event #{seq}: link to the previous event is broken.")
        if chain.chain_hash(event.previous_hash, event.content_digest, seq) != event.chain_hash:
            report.fail(seq, f"Event #{seq}: chain hash does not match.")
        candidates = list(keys.values()) if not event.signature_key_id else [keys.get(event.signature_key_id)]
        if None in candidates:
            report.fail(
                seq,
                f"Event #{seq}: signed with seal key {event.signature_key_id}, which is not configured "
                "(add it to OVERSIGHT_AUDIT_SEAL_OLD_KEYS).",
            )
        elif not any(chain.event_signature(k, seq, event.chain_hash) == event.signature for k in candidates):
            report.fail(seq, f"Event #{seq}: signature invalid (row rewritten outside Oversight, or wrong key).")
        hashes_by_sequence[seq] = event.chain_hash
        previous_hash = event.chain_hash
        expected_sequence = seq + 1
    for seal in AuditSeal.objects.order_by("sequence", "sealed_at"):
        report.seals_checked += 1
        key = keys.get(seal.key_id)
        if key is None:
            report.fail(
                seal.sequence,
                f"Seal at #{seal.sequence} was made with seal key {seal.key_id}, which is not "
                "configured (add it to OVERSIGHT_AUDIT_SEAL_OLD_KEYS).",
            )
        elif seal.signature != chain.seal_signature(key, seal.sequence, seal.chain_hash):
            report.fail(
                seal.sequence, f"Seal at #{seal.sequence} ({seal.sealed_at:%Y-%m-%d %H:%M}) has an invalid signature."
            )
        elif seal.sequence > last_sequence:
            report.fail(
                last_sequence + 1,
                f"Seal at #{seal.sequence} points past the last event #{last_sequence}: events were removed.",
            )
        elif hashes_by_sequence.get(seal.sequence) != seal.chain_hash:
            report.fail(
                seal.sequence,
                f"Seal at #{seal.sequence} does not match the chain: events up to #{seal.sequence} were rewritten.",
            )
    return report


def audit_event_redact(*, event: AuditEvent, reason: str) -> None:
    """Blank the personal fields of an event whose retention has passed, keeping their digests.

    The only permitted change to an audit row. Idempotent. The chain still verifies afterwards.
    """
    if event.redacted_at:
        return
    blank = {"justification": "", "recipient": "", "target_label": "", "details": {}}
    _redact_row(event.pk, blank)
    event.refresh_from_db()


# On PostgreSQL a trigger (migration governance 0005) refuses every UPDATE and DELETE of an audit
# row, except an UPDATE that only blanks the redactable fields of a not-yet-redacted row, and that
# only while this transaction-local setting is on. This function is the one place that sets it.
REDACTION_SETTING = "oversight.audit_redaction"


def _redact_row(pk: int, blank: dict[str, Any]) -> None:
    from django.db.models import QuerySet

    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, 'on', true)", [REDACTION_SETTING])
        QuerySet(model=AuditEvent).filter(pk=pk).update(**blank, redacted_at=timezone.now())
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, 'off', true)", [REDACTION_SETTING])


def audit_log_consult(*, user, filters: dict, justification: str, exported: bool) -> None:
    """Record that someone read (or exported) the audit log, with what they searched for."""
    if exported and not user.has_perm("governance.export_auditevent"):
        raise PermissionRefused("Your role cannot export the audit log.")
    with transaction.atomic():
        audit_record(
            action=AuditAction.CONSULTATION,
            event="audit_log.exported" if exported else "audit_log.searched",
            actor=user,
            target=("governance.auditlog", "-", "Audit log"),
            justification=justification,
            details={"filters": {k: str(v) for k, v in filters.items() if v}},
        )


# --- checkpoints and the integrity export (what an outside party keeps and checks) -----------------


def _checkpoint_private_key():
    from governance.audit import checkpoint

    value = settings.AUDIT_CHECKPOINT_KEY
    if not value:
        if getattr(settings, "PRODUCTION", False):
            raise ImproperlyConfigured("OVERSIGHT_AUDIT_CHECKPOINT_KEY must be set to sign checkpoints in production.")
        import base64
        import hashlib

        value = base64.b64encode(hashlib.sha256(b"oversight-development-checkpoint-key").digest()).decode()
    return checkpoint.private_key_from_setting(value)


def audit_checkpoint_public_key() -> str:
    from governance.audit import checkpoint

    return checkpoint.public_key_pem(_checkpoint_private_key())


def audit_checkpoint_create() -> dict[str, Any] | None:
    """A signed statement of the current chain head (sequence and chain hash) to publish.

    Read-only: takes the chain lock only to read a head no append is half-way through.
    """
    from governance.audit import checkpoint

    with transaction.atomic():
        _lock_chain()
        head = AuditEvent.objects.order_by("-sequence").only("sequence", "chain_hash").first()
    if head is None:
        return None
    return checkpoint.checkpoint_sign(
        _checkpoint_private_key(),
        sequence=head.sequence,
        chain_hash=head.chain_hash,
        issued_at=timezone.now().isoformat(timespec="seconds"),
    )


def audit_integrity_export(*, batch_size: int = 5000):
    """Yield the integrity export line by line (JSON): a header, then every event's digests, links and
    non-personal fields. Personal fields travel as digests only, so the export can be handed to an
    outside verifier. Streams in batches; read-only."""
    import json

    from governance.audit import checkpoint

    yield json.dumps({"format": checkpoint.EXPORT_FORMAT, "exported_at": timezone.now().isoformat(timespec="seconds")})
    for event in AuditEvent.objects.order_by("sequence").iterator(chunk_size=batch_size):
        values = {name: getattr(event, name) for name in checkpoint.EXPORTED_VALUES}
        values["occurred_at"] = values["occurred_at"].isoformat(timespec="microseconds")
        yield json.dumps(
            {
                "sequence": event.sequence,
                "values": values,
                "field_digests": event.field_digests,
                "content_digest": event.content_digest,
                "previous_hash": event.previous_hash,
                "chain_hash": event.chain_hash,
                "redacted": event.redacted_at is not None,
            },
            sort_keys=True,
        )
