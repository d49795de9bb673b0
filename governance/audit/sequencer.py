"""The sequencer of the audit transparency log, its signed tree heads and its proofs.

Writers (``audit_record``) never wait for each other: each inserts its event and a pending entry
in its own transaction. The sequencer (``audit_sequence``; one at a time by a PostgreSQL advisory
lock) gives the committed pending entries leaf numbers in batches, extends the Merkle tree
(RFC 6962) and signs a tree head, all in one transaction: killed half-way, nothing of the batch is
kept and the entries stay pending.

When it runs. *On commit*: a transaction that appended events, once committed, tries the lock
without waiting (``audit_sequence_after_commit``); if it gets it, it sequences what has committed
(its own events and everyone else's), one bounded batch; if another sequencer holds it, it returns
at once and that sequencer, or the next commit, takes its events. Writers thus sequence each other's
entries as a group (like a database's group commit) and no writer waits for another. *On beat*
(``governance.tasks.audit_sequence``, every ``OVERSIGHT_AUDIT_SEQUENCER_SECONDS``) as the safety
net: an entry whose committer lost the race at the very end of a burst, or a process killed between
its commit and its turn, is sequenced within that period. ``OVERSIGHT_AUDIT_SEQUENCE_ON_COMMIT=0``
leaves it to beat alone (e.g. a dedicated sequencer loop, ``manage.py audit_sequence --loop``).

Commit order. The sequencer reads *every* pending entry its snapshot sees, not "entries above the
last number sequenced": an entry appears to it exactly when its transaction commits, so an entry
that commits late with a lower number is simply taken by the next batch, never skipped, and an
entry of a rolled-back transaction never appears at all. Leaves are thus in commit order at batch
granularity (each batch holds what committed since the previous one's snapshot), ordered by entry
number within a batch. No commit timestamps (``track_commit_timestamp``) or xid arithmetic are
needed, and it works the same on SQLite, where writers are serialised anyway.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone

from governance.audit import tlog
from governance.audit.models import (
    AuditEvent,
    AuditLeaf,
    AuditPending,
    AuditTreeHead,
    AuditTreeNode,
    node_key,
)
from governance.errors import AuditEventNotSequenced

# Arbitrary constant identifying the sequencer's advisory lock on PostgreSQL.
SEQUENCER_LOCK_ID = 620_063
# PostgreSQL sequence giving events their numbers without any lock (migration governance 0013).
ENTRY_SEQUENCE = "oversight_audit_entry_seq"
BATCH_SIZE = 20_000
# A committing writer sequences at most this many entries (its request should not carry a backlog).
ON_COMMIT_BATCH_SIZE = 2_000

logger = logging.getLogger(__name__)


def next_entry_number() -> int:
    """A unique, increasing event number, taken without waiting on anyone (not gapless: a
    rolled-back transaction's number is never used). SQLite serialises writers, so max + 1 is safe."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(%s)", [ENTRY_SEQUENCE])
        else:
            cursor.execute(f"SELECT coalesce(max(sequence), 0) + 1 FROM {AuditEvent._meta.db_table}")
        return cursor.fetchone()[0]


# --- keys ------------------------------------------------------------------------------------------


def _private_key(value: str):
    from governance.audit import checkpoint

    return checkpoint.private_key_from_setting(value)


def head_private_key():
    """The current head key (``OVERSIGHT_AUDIT_CHECKPOINT_KEY``, Ed25519 seed, outside the database)."""
    value = settings.AUDIT_CHECKPOINT_KEY
    if not value:
        if getattr(settings, "PRODUCTION", False):
            raise ImproperlyConfigured("OVERSIGHT_AUDIT_CHECKPOINT_KEY must be set to sign tree heads in production.")
        value = base64.b64encode(hashlib.sha256(b"oversight-development-checkpoint-key").digest()).decode()
    return _private_key(value)


def head_public_keys() -> dict[str, str]:
    """Every head key by key id, PEM: the current one signs, the rotated-out ones
    (``OVERSIGHT_AUDIT_CHECKPOINT_OLD_KEYS``) still verify the heads they signed."""
    from governance.audit import checkpoint

    keys = [head_private_key(), *(_private_key(v) for v in getattr(settings, "AUDIT_CHECKPOINT_OLD_KEYS", []) if v)]
    return {tlog.public_key_id(k.public_key()): checkpoint.public_key_pem(k) for k in keys}


def head_sign(*, tree_size: int, root_hash: str, legacy_chain_size: int = 0, legacy_chain_hash: str = "") -> dict:
    return tlog.head_sign(
        head_private_key(),
        tree_size=tree_size,
        root_hash=root_hash,
        issued_at=timezone.now().isoformat(timespec="microseconds"),
        legacy_chain_size=legacy_chain_size,
        legacy_chain_hash=legacy_chain_hash,
    )


def head_store(head: dict[str, Any], model=AuditTreeHead):
    return model.objects.create(
        **{k: head[k] for k in tlog.HEAD_SIGNED_FIELDS if k != "format"}, signature=head["signature"]
    )


# --- tree storage ----------------------------------------------------------------------------------


def nodes_fetch(keys: set[tuple[int, int]], *, leaf_model=AuditLeaf, node_model=AuditTreeNode) -> dict:
    """Hashes of perfect subtrees by (level, index): level 0 from the leaves, the rest from the nodes,
    in one query (one round trip) by primary key."""
    leaves = sorted(index for level, index in keys if level == 0)
    others = {node_key(level, index): (level, index) for level, index in keys if level}
    parts, params = [], []
    if leaves:
        parts.append(f'SELECT 0, "index", leaf_hash FROM {leaf_model._meta.db_table} WHERE "index" = ANY(%s)')
        params.append(leaves)
    if others:
        parts.append(f"SELECT 1, key, hash FROM {node_model._meta.db_table} WHERE key = ANY(%s)")
        params.append(sorted(others))
    if not parts:
        return {}
    if connection.vendor != "postgresql":  # SQLite has no arrays: the same, by IN lists
        found = dict(
            ((0, i), h) for i, h in leaf_model.objects.filter(index__in=leaves).values_list("index", "leaf_hash")
        )
        for key, value in node_model.objects.filter(key__in=list(others)).values_list("key", "hash"):
            found[others[key]] = value
        return found
    found: dict[tuple[int, int], str] = {}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for kind, key, value in cursor.fetchall():
            found[(0, key) if kind == 0 else others[key]] = value
    return found


def tree_size(*, leaf_model=AuditLeaf) -> int:
    last = leaf_model.objects.order_by("-index").values_list("index", flat=True).first()
    return 0 if last is None else last + 1


def tree_append(leaves: list[tuple[int, str]], *, leaf_model=AuditLeaf, node_model=AuditTreeNode) -> tlog.TreeBuilder:
    """Append (event id, leaf hash) pairs as the next leaves, storing every subtree they complete."""
    size = tree_size(leaf_model=leaf_model)
    keys = tlog.TreeBuilder.frontier_keys(size)
    found = nodes_fetch(set(keys), leaf_model=leaf_model, node_model=node_model)
    builder = tlog.TreeBuilder(size, [found[k] for k in keys])
    new_leaves, new_nodes = [], []
    for event_id, leaf in leaves:
        new_leaves.append(leaf_model(index=builder.size, event_id=event_id, leaf_hash=leaf))
        new_nodes += [node_model(key=node_key(level, index), hash=h) for level, index, h in builder.append(leaf)]
    leaf_model.objects.bulk_create(new_leaves, batch_size=5000)
    node_model.objects.bulk_create(new_nodes, batch_size=5000)
    return builder


def _try_lock() -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite: the transaction holds the database write lock (BEGIN IMMEDIATE)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SEQUENCER_LOCK_ID])
        return bool(cursor.fetchone()[0])


def audit_sequence(*, batch_size: int = BATCH_SIZE) -> AuditTreeHead | None:
    """Give the committed pending events their leaves (one batch) and sign the new tree head.

    One transaction: the leaves, the subtree nodes, the removal of the pending entries and the head
    commit together or not at all. Returns None when another sequencer holds the lock or nothing is
    pending. Not audited itself (it records no action of anyone's; it *is* the log's bookkeeping).
    """
    with transaction.atomic():
        if not _try_lock():
            return None
        pending = list(AuditPending.objects.order_by("event_id").values_list("event_id", "leaf_hash")[:batch_size])
        if not pending:
            return None
        if connection.vendor == "postgresql":
            return _sequence_postgresql(pending)
        builder = tree_append(pending)
        AuditPending.objects.filter(event_id__in=[event_id for event_id, _ in pending]).delete()
        return head_store(head_sign(tree_size=builder.size, root_hash=builder.root()))


def _sequence_postgresql(pending: list[tuple[int, str]]) -> AuditTreeHead:
    """PostgreSQL: the batch's writes — leaves, subtree nodes, removal of the pending entries, the
    signed head — in one statement (arrays, one round trip), so a batch costs a few round trips
    whatever its size. Same rows as ``tree_append`` + ``head_store``."""
    size = tree_size()
    keys = tlog.TreeBuilder.frontier_keys(size)
    found = nodes_fetch(set(keys))
    builder = tlog.TreeBuilder(size, [found[k] for k in keys])
    indexes, event_ids, leaves, node_keys, node_hashes = [], [], [], [], []
    for event_id, leaf in pending:
        indexes.append(builder.size)
        event_ids.append(event_id)
        leaves.append(leaf)
        for level, index, value in builder.append(leaf):
            node_keys.append(node_key(level, index))
            node_hashes.append(value)
    head = head_sign(tree_size=builder.size, root_hash=builder.root())
    fields = {k: head[k] for k in tlog.HEAD_SIGNED_FIELDS if k != "format"} | {"signature": head["signature"]}
    sql = f"""
        WITH l AS (
            INSERT INTO {AuditLeaf._meta.db_table} ("index", event_id, leaf_hash)
            SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::varchar[])
        ),
        n AS (
            INSERT INTO {AuditTreeNode._meta.db_table} (key, hash) SELECT * FROM unnest(%s::bigint[], %s::varchar[])
        ),
        d AS (DELETE FROM {AuditPending._meta.db_table} WHERE event_id = ANY(%s))
        INSERT INTO {AuditTreeHead._meta.db_table} ({", ".join(fields)}) VALUES ({", ".join(["%s"] * len(fields))})
        RETURNING id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [indexes, event_ids, leaves, node_keys, node_hashes, event_ids, *fields.values()])
        made = AuditTreeHead(id=cursor.fetchone()[0], **fields)
    made._state.adding = False
    made._state.db = connection.alias
    return made


def audit_sequence_all(*, batch_size: int = BATCH_SIZE) -> AuditTreeHead | None:
    """Sequence until nothing is pending (the beat task; tests call it to settle the log)."""
    head = None
    while True:
        made = audit_sequence(batch_size=batch_size)
        if made is None:
            return head
        head = made


def audit_sequence_after_commit() -> None:
    """Run by ``transaction.on_commit`` after a transaction that appended events: one batch if the
    sequencer's lock is free, nothing otherwise (never waits). Failures are logged, never raised: the
    caller's work has committed, and beat retries."""
    try:
        audit_sequence(batch_size=ON_COMMIT_BATCH_SIZE)
    except Exception:  # noqa: BLE001 - the committed work stands; beat is the safety net
        logger.exception("Sequencing on commit failed; beat will retry.")


def sequence_on_commit() -> None:
    """Arrange for ``audit_sequence_after_commit`` once per outermost transaction (``audit_record``
    calls this for every event it appends)."""
    if not getattr(settings, "AUDIT_SEQUENCE_ON_COMMIT", True):
        return
    if any(entry[1] is audit_sequence_after_commit for entry in connection.run_on_commit):
        return
    transaction.on_commit(audit_sequence_after_commit)


def audit_sequence_loop(*, poll_seconds: float = 0.2, stop=lambda: False) -> None:
    """A dedicated sequencer: sequence, and when nothing is pending sleep ``poll_seconds``."""
    while not stop():
        if audit_sequence() is None:
            time.sleep(poll_seconds)


def sequencer_lag_seconds() -> float:
    """How long the oldest pending event has waited for its leaf (0 when none waits)."""
    oldest = AuditPending.objects.order_by("event_id").values_list("event__occurred_at", flat=True).first()
    if oldest is None:
        return 0.0
    return max(0.0, (timezone.now() - oldest).total_seconds())


# --- proofs ----------------------------------------------------------------------------------------


def latest_head() -> AuditTreeHead | None:
    return AuditTreeHead.objects.order_by("-tree_size", "-id").first()


def root_at(size: int) -> str:
    return tlog.planned(lambda get: tlog.subtree_hash(0, size, get), nodes_fetch)


def inclusion_proof(event: AuditEvent, head: AuditTreeHead | None = None) -> dict[str, Any]:
    """The RFC 6962 inclusion proof of an event in a signed head (the latest by default).

    Refused (``NotFound``, code ``audit_event_not_sequenced``) while the event waits for its leaf.
    """
    leaf = AuditLeaf.objects.filter(event=event).first()
    head = head or latest_head()
    if leaf is None or head is None or head.tree_size <= leaf.index:
        raise AuditEventNotSequenced("This event has no leaf in a signed tree head yet; try again in a few seconds.")
    path = tlog.planned(lambda get: tlog.inclusion_path(leaf.index, head.tree_size, get), nodes_fetch)
    return {
        "type": "inclusion",
        "leaf_index": leaf.index,
        "leaf_hash": leaf.leaf_hash,
        "path": path,
        "head": head.as_dict(),
        "entry": {
            "sequence": event.sequence,
            "content_digest": event.content_digest,
            "field_digests": event.field_digests,
            "legacy_chain_hash": event.chain_hash if event.previous_hash else "",
        },
    }


def consistency_proof(first: AuditTreeHead, second: AuditTreeHead) -> dict[str, Any]:
    """The RFC 6962 consistency proof that ``first`` is a prefix of ``second``."""
    if first.tree_size > second.tree_size:
        first, second = second, first
    path = tlog.planned(lambda get: tlog.consistency_path(first.tree_size, second.tree_size, get), nodes_fetch)
    return {"type": "consistency", "first": first.as_dict(), "second": second.as_dict(), "path": path}


def audit_event_inclusion_proof(event: AuditEvent, *, tree_size: int | None = None) -> dict[str, Any]:
    """The inclusion proof of an event (already scoped by ``audit_event_for``) in the latest signed
    head, or in the head of ``tree_size`` (refused as not found when there is none)."""
    from governance.errors import NotFound

    head = None
    if tree_size is not None:
        head = AuditTreeHead.objects.filter(tree_size=tree_size).order_by("id").first()
        if head is None:
            raise NotFound("No signed tree head of that size.")
    return inclusion_proof(event, head)
