"""Writing, sealing, verifying and redacting the audit log.

``audit_record`` must be called *inside* the transaction of the service whose action it records,
so the event and the change it describes commit or roll back together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from governance.audit import chain, tlog
from governance.audit.models import (
    AuditAction,
    AuditEvent,
    AuditEventOrganisation,
    AuditLeaf,
    AuditPending,
    AuditSeal,
    AuditTreeHead,
)
from governance.audit.sequencer import (
    ENTRY_SEQUENCE,
    audit_sequence_all,
    head_private_key,
    head_public_keys,
    latest_head,
    next_entry_number,
    sequence_on_commit,
)
from governance.errors import PermissionRefused

# Every row lock a service takes before ``audit_record`` goes through ``governance.locks.lock_rows`` (FOR NO KEY
# UPDATE of the row itself only: the deadlock it prevents is described there).


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
    """Append one s.62 event to the log, as a pending entry of the transparency log.

    Transaction: must run inside the caller's ``transaction.atomic()``; it takes no lock, so no
    service waits for another's commit (the sequencer, ``audit_sequence``, gives the event its leaf
    once committed; the event row is readable at once). ``target`` is a model instance or
    ``(type, id, label)``.
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
    target_type, target_id, target_label = _target_of(target)
    user = actor if getattr(actor, "is_authenticated", False) else None
    organisation = getattr(user, "organisation", None) if user else None
    new = AuditEvent(
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
    # Every digest is computed here, before the insert and outside any lock: no writer waits for another.
    new.field_digests = {name: chain.field_digest(value) for name, value in values.items()}
    new.content_digest = chain.content_digest(new.field_digests)
    # Since the transparency log: ``chain_hash`` holds the event's RFC 6962 leaf hash (its identity in
    # the tree), ``previous_hash`` is empty, and the seal-key signature covers the content digest (the
    # number is bound by the leaf); events of the old chain keep their chain links and signatures.
    new.previous_hash = ""
    new.signature = chain.entry_signature(settings.AUDIT_SEAL_KEY, new.content_digest)
    new.signature_key_id = chain.seal_key_id(settings.AUDIT_SEAL_KEY)
    concerned = set(organisations)
    if organisation is not None:
        concerned.add(organisation.pk)
    if hasattr(target, "concerned_organisation_ids"):
        concerned |= set(target.concerned_organisation_ids())
    concerned_ids = sorted(i for i in concerned if i)
    sequence_on_commit()  # once committed, the writers sequence each other's entries (sequencer.py)
    if connection.vendor == "postgresql":
        _insert_postgresql(new, concerned_ids)
        return new
    new.sequence = next_entry_number()
    new.chain_hash = tlog.leaf_hash(new.sequence, new.content_digest)
    new.save(force_insert=True)
    AuditEventOrganisation.objects.bulk_create(
        [AuditEventOrganisation(event=new, organisation_id=pk) for pk in concerned_ids]
    )
    # Waits for the sequencer (audit_sequence) to give it a leaf; commits or rolls back with the event.
    AuditPending.objects.create(event=new, leaf_hash=new.chain_hash)
    return new


_EVENT_COLUMNS = (
    "occurred_at",
    "action",
    "event",
    "actor_id",
    "actor_username",
    "actor_organisation",
    "justification",
    "recipient",
    "target_type",
    "target_id",
    "target_label",
)


# The append statement, prepared once per database connection: each append then sends only its values
# (``EXECUTE``), and PostgreSQL neither parses nor plans it again. The name prepared on a connection is
# kept on it (``_APPEND_PREPARED``); a connection object without it prepares first, under a new name
# each try, so a message that failed after its PREPARE never leaves a name that is taken.
_APPEND_STATEMENT = "oversight_audit_append"
_APPEND_PREPARED = "_oversight_audit_append_name"
_APPEND_TRIES = "_oversight_audit_append_tries"


def _append_sql() -> str:
    """PostgreSQL: the event, its scope rows and its pending entry in one statement: the number comes
    from the sequence and the leaf hash (``tlog.leaf_hash``, SHA-256 of the leaf data, which ends with
    the number) is computed by the same statement. Parameters: the event columns, details, field
    digests, content digest, leaf data prefix, signature, key id, organisation ids."""
    events = AuditEvent._meta.db_table
    columns = ", ".join(_EVENT_COLUMNS)
    count = len(_EVENT_COLUMNS)
    values = ", ".join(f"${i}" for i in range(1, count + 1))
    details, digests, content, prefix, signature, key_id, organisations = (f"${count + i}" for i in range(1, 8))
    return f"""
        WITH n AS (SELECT nextval('{ENTRY_SEQUENCE}') AS s),
        e AS (
            INSERT INTO {events} (sequence, {columns}, details, field_digests, content_digest, previous_hash,
                                  chain_hash, signature, signature_key_id)
            SELECT n.s, {values}, {details}::jsonb, {digests}::jsonb, {content}, '',
                   encode(sha256(decode('00', 'hex') || convert_to({prefix} || n.s::text || '}}', 'UTF8')), 'hex'),
                   {signature}, {key_id}
            FROM n
            RETURNING id, sequence, chain_hash
        ),
        o AS (
            INSERT INTO {AuditEventOrganisation._meta.db_table} (event_id, organisation_id)
            SELECT e.id, unnest({organisations}::bigint[]) FROM e
        ),
        p AS (INSERT INTO {AuditPending._meta.db_table} (event_id, leaf_hash) SELECT e.id, e.chain_hash FROM e)
        SELECT id, sequence, chain_hash FROM e
    """


_APPEND_TYPES = (
    "timestamptz",  # occurred_at
    *["text"] * 2,  # action, event
    "bigint",  # actor_id
    *["text"] * 7,  # actor_username ... target_label
    *["text"] * 6,  # details, field digests (JSON text), content digest, prefix, signature, key id
    "bigint[]",  # organisations
)


def _insert_postgresql(new: AuditEvent, concerned_ids: list[int]) -> None:
    """PostgreSQL: the append in one round trip, no SELECT before it (``_append_sql``). Nothing here
    is secret. The first append on a connection prepares the statement in the same message."""
    import json

    raw = connection.connection
    name = getattr(raw, _APPEND_PREPARED, "")
    prepare = ""
    if not name:
        # Not transactional: a prepared statement outlives a rollback, and goes with the connection.
        tries = getattr(raw, _APPEND_TRIES, 0) + 1
        setattr(raw, _APPEND_TRIES, tries)
        name = f"{_APPEND_STATEMENT}_{tries}"
        prepare = f"PREPARE {name} ({', '.join(_APPEND_TYPES)}) AS {_append_sql()};"
    params = [getattr(new, column) for column in _EVENT_COLUMNS]
    params += [json.dumps(new.details), json.dumps(new.field_digests), new.content_digest]
    params += [tlog.leaf_data_prefix(new.content_digest), new.signature, new.signature_key_id, concerned_ids]
    placeholders = ", ".join(["%s"] * len(params))
    with connection.cursor() as cursor:
        cursor.execute(f"{prepare} EXECUTE {name} ({placeholders})", params)
        if prepare:
            setattr(raw, _APPEND_PREPARED, name)
            cursor.nextset()
        new.pk, new.sequence, new.chain_hash = cursor.fetchone()
    new._state.adding = False
    new._state.db = connection.alias


def audit_seal_chain_head() -> AuditSeal | None:
    """Seal the latest signed tree head (size, root) with the HMAC seal key kept outside the database.

    Idempotent: sealing an already-sealed head does nothing. Run by beat every few minutes. (Seals
    made before the transparency log name an old chain event and its chain hash; both still verify.)
    """
    audit_sequence_all()
    with transaction.atomic():
        head = latest_head()
        if head is None:
            return None
        if AuditSeal.objects.filter(sequence=head.tree_size, chain_hash=head.root_hash).exists():
            return None
        key = settings.AUDIT_SEAL_KEY
        return AuditSeal.objects.create(
            sequence=head.tree_size,
            chain_hash=head.root_hash,
            sealed_at=timezone.now(),
            key_id=chain.seal_key_id(key),
            signature=chain.seal_signature(key, head.tree_size, head.root_hash),
        )


@dataclass
class ChainVerification:
    events_checked: int = 0
    seals_checked: int = 0
    heads_checked: int = 0
    pending: int = 0
    first_broken_sequence: int | None = None
    first_broken_leaf: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, sequence: int | None, problem: str, *, leaf: int | None = None) -> None:
        if sequence is not None and (self.first_broken_sequence is None or sequence < self.first_broken_sequence):
            self.first_broken_sequence = sequence
        if leaf is not None and (self.first_broken_leaf is None or leaf < self.first_broken_leaf):
            self.first_broken_leaf = leaf
        self.problems.append(problem)


def _check_event(report: ChainVerification, event: AuditEvent, keys: dict[str, str]) -> None:
    """An event's field digests, content digest and seal-key signature."""
    seq = event.sequence
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
    candidates = list(keys.values()) if not event.signature_key_id else [keys.get(event.signature_key_id)]

    def signature(key: str) -> str:
        if event.previous_hash:  # an event of the old chain
            return chain.event_signature(key, seq, event.chain_hash)
        return chain.entry_signature(key, event.content_digest)

    if None in candidates:
        report.fail(
            seq,
            f"Event #{seq}: signed with seal key {event.signature_key_id}, which is not configured "
            "(add it to OVERSIGHT_AUDIT_SEAL_OLD_KEYS).",
        )
    elif not any(signature(k) == event.signature for k in candidates):
        report.fail(seq, f"Event #{seq}: signature invalid (row rewritten outside Oversight, or wrong key).")


def audit_chain_verify(*, batch_size: int = 5000, progress=None) -> ChainVerification:
    """Verify the whole log: every event, the tree, every signed head and every seal.

    Streams the leaves in order once (linear time, memory O(log n) for the tree plus the heads):
    each event's digests and signature (an edited row), its leaf hash, consecutive leaves (a deleted
    one), the old chain's links for the events that came before the tree, the recomputed root at
    every signed head's size (a rewrite that recomputes every hash still cannot re-sign the heads,
    whose key is outside the database) and every seal. Pending events (waiting for the sequencer)
    are checked as events; an event neither pending nor a leaf is reported. Read-only.
    """
    keys = seal_keys()
    head_keys = tlog.load_public_keys(head_public_keys().values())
    report = ChainVerification()
    heads = list(AuditTreeHead.objects.order_by("tree_size", "id"))
    seals = list(AuditSeal.objects.order_by("sequence", "sealed_at"))
    wanted = {h.tree_size for h in heads} | {s.sequence for s in seals}
    seal_sequences = {s.sequence for s in seals}
    roots: dict[int, str] = {}
    legacy_hashes: dict[int, str] = {}
    builder = tlog.TreeBuilder()
    previous_legacy = chain.GENESIS_HASH
    legacy_size, legacy_last = 0, chain.GENESIS_HASH
    leaves = AuditLeaf.objects.select_related("event").order_by("index")
    for leaf in leaves.iterator(chunk_size=batch_size):
        event = leaf.event
        seq = event.sequence
        report.events_checked += 1
        if progress is not None and report.events_checked % batch_size == 0:
            progress(report.events_checked)  # e.g. the audit page's verification run (audit/verification.py)
        if leaf.index != builder.size:
            report.fail(
                seq,
                f"Leaf {builder.size} is missing (next present is leaf {leaf.index}, event #{seq}).",
                leaf=builder.size,
            )
            builder.size = leaf.index  # keep going; every later head fails to match
        _check_event(report, event, keys)
        legacy = event.chain_hash if event.previous_hash else ""
        if legacy:
            if event.previous_hash != previous_legacy:
                report.fail(
                    seq, f"Event #{seq}: link to the previous event of the old chain is broken.", leaf=leaf.index
                )
            if chain.chain_hash(event.previous_hash, event.content_digest, seq) != legacy:
                report.fail(seq, f"Event #{seq}: old chain hash does not match.", leaf=leaf.index)
            previous_legacy, legacy_size, legacy_last = legacy, seq, legacy
            if seq in seal_sequences:
                legacy_hashes[seq] = legacy
        expected = tlog.leaf_hash(seq, event.content_digest, legacy)
        if leaf.leaf_hash != expected or (not legacy and event.chain_hash != expected):
            report.fail(seq, f"Event #{seq}: leaf {leaf.index} does not hash its content.", leaf=leaf.index)
        builder.append(expected)
        if builder.size in wanted:
            roots[builder.size] = builder.root()
    size = builder.size
    for pending in AuditPending.objects.select_related("event").order_by("event_id").iterator(chunk_size=batch_size):
        report.pending += 1
        report.events_checked += 1
        event = pending.event
        _check_event(report, event, keys)
        if (
            pending.leaf_hash != tlog.leaf_hash(event.sequence, event.content_digest)
            or event.chain_hash != pending.leaf_hash
        ):
            report.fail(event.sequence, f"Event #{event.sequence} (pending): leaf hash does not match its content.")
    stray = AuditEvent.objects.count() - report.events_checked
    if stray:
        report.fail(None, f"{stray} event(s) are neither leaves of the tree nor waiting for the sequencer.")
    for head in heads:
        report.heads_checked += 1
        when = head.issued_at[:16]
        if not tlog.head_valid(head_keys, head.as_dict()):
            report.fail(
                None,
                f"Tree head of size {head.tree_size} ({when}): signature invalid, or made with key {head.key_id} "
                "which is not configured (add it to OVERSIGHT_AUDIT_CHECKPOINT_OLD_KEYS).",
            )
        elif head.tree_size > size:
            report.fail(
                None, f"Tree head of size {head.tree_size} ({when}) is past the last leaf: leaves were removed."
            )
        elif head.tree_size and roots.get(head.tree_size) != head.root_hash:
            report.fail(
                None, f"Tree head of size {head.tree_size} ({when}) does not match: leaves before it were rewritten."
            )
        elif head.legacy_chain_size and (head.legacy_chain_size, head.legacy_chain_hash) != (legacy_size, legacy_last):
            report.fail(
                None, f"Tree head of size {head.tree_size}: the old chain it records is not the one in the log."
            )
    for seal in seals:
        report.seals_checked += 1
        # A seal of the old chain names an event; a seal of a tree head names a tree size.
        named = seal.sequence if seal.sequence in legacy_hashes else None
        key = keys.get(seal.key_id)
        if key is None:
            report.fail(
                named,
                f"Seal at #{seal.sequence} was made with seal key {seal.key_id}, which is not "
                "configured (add it to OVERSIGHT_AUDIT_SEAL_OLD_KEYS).",
            )
        elif seal.signature != chain.seal_signature(key, seal.sequence, seal.chain_hash):
            report.fail(named, f"Seal at #{seal.sequence} ({seal.sealed_at:%Y-%m-%d %H:%M}) has an invalid signature.")
        elif seal.chain_hash not in (roots.get(seal.sequence), legacy_hashes.get(seal.sequence)):
            past = seal.sequence > size and seal.sequence > legacy_size
            report.fail(
                named,
                f"Seal at #{seal.sequence} points past the log's end: events were removed."
                if past
                else f"Seal at #{seal.sequence} does not match the log: events up to it were rewritten.",
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
    from governance.access import can_export_audit_log

    if exported and not can_export_audit_log(user):
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


def audit_checkpoint_public_key() -> str:
    """The PEM of the current tree head key, to publish."""
    from governance.audit import checkpoint

    return checkpoint.public_key_pem(head_private_key())


def audit_checkpoint_create() -> dict[str, Any] | None:
    """The latest signed tree head, after sequencing what is pending: what an outside party keeps.

    (Before the transparency log a checkpoint signed the chain head; a tree head now plays its part,
    and a consistency proof shows a later head extends it.)
    """
    audit_sequence_all()
    head = latest_head()
    return head.as_dict() if head else None


def audit_integrity_export(*, batch_size: int = 5000, start: int = 0):
    """Yield the integrity export line by line (JSON lines, ``tlog.EXPORT_FORMAT``): a header with
    every signed tree head, then one line per leaf from ``start`` on (its event's digests, leaf hash,
    old chain links and non-personal fields). Personal fields travel as digests only, so the export
    can be handed to an outside verifier (``governance/audit/tlog.py``). Streams; read-only."""
    import json

    yield json.dumps(
        {
            "format": tlog.EXPORT_FORMAT,
            "exported_at": timezone.now().isoformat(timespec="seconds"),
            "start": start,
            "heads": [h.as_dict() for h in AuditTreeHead.objects.order_by("tree_size", "id")],
        }
    )
    leaves = AuditLeaf.objects.filter(index__gte=start).select_related("event").order_by("index")
    for leaf in leaves.iterator(chunk_size=batch_size):
        event = leaf.event
        values = {name: getattr(event, name) for name in tlog.EXPORTED_VALUES}
        values["occurred_at"] = values["occurred_at"].isoformat(timespec="microseconds")
        legacy = bool(event.previous_hash)
        yield json.dumps(
            {
                "leaf_index": leaf.index,
                "sequence": event.sequence,
                "values": values,
                "field_digests": event.field_digests,
                "content_digest": event.content_digest,
                "leaf_hash": leaf.leaf_hash,
                "previous_hash": event.previous_hash if legacy else "",
                "legacy_chain_hash": event.chain_hash if legacy else "",
                "redacted": event.redacted_at is not None,
            },
            sort_keys=True,
        )
