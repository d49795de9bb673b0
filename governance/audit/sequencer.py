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
import functools
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
    NODE_LEVEL_SHIFT,
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
# A committing writer sequences at most this many entries a batch, and stops starting batches after
# this long (its request should not carry a backlog; the next committer or beat carries on).
ON_COMMIT_BATCH_SIZE = 2_000
ON_COMMIT_SECONDS = 0.25

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


@functools.lru_cache(maxsize=8)
def _private_key(value: str):
    """The key object of a setting's value (parsed once per process: every batch signs a head)."""
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
    if connection.vendor == "postgresql":
        if connection.get_autocommit() and not connection.in_atomic_block:
            return _sequence_postgresql_own_transaction(batch_size)
        with transaction.atomic():
            return _sequence_postgresql(batch_size)
    with transaction.atomic():
        if not _try_lock():
            return None
        pending = list(AuditPending.objects.order_by("event_id").values_list("event_id", "leaf_hash")[:batch_size])
        if not pending:
            return None
        builder = tree_append(pending)
        AuditPending.objects.filter(event_id__in=[event_id for event_id, _ in pending]).delete()
        return head_store(head_sign(tree_size=builder.size, root_hash=builder.root()))


# The batch's reads in one round trip, two statements: the first takes the sequencer's lock, the
# second (its own snapshot, taken *after* the lock, so it sees every batch committed before) reads
# the tree's size, the hashes of its right edge (``TreeBuilder.frontier_keys`` in SQL: for each set
# bit ``level`` of the size, the subtree ``(level, (size >> (level + 1)) << 1)``) and the oldest
# pending entries — the latter only while the lock is this transaction's (a one-time check).
_READ_BATCH = f"""
    SELECT pg_try_advisory_xact_lock(%s);
    WITH size AS (SELECT coalesce(max("index") + 1, 0) AS n FROM {AuditLeaf._meta.db_table}),
    frontier AS (
        SELECT level, (size.n >> (level + 1)) << 1 AS position
        FROM size, generate_series(0, 62) AS level
        WHERE (size.n >> level) & 1 = 1
    )
    SELECT 0, n, NULL::varchar FROM size
    UNION ALL
    SELECT 1, f.level, l.leaf_hash FROM frontier f JOIN {AuditLeaf._meta.db_table} l
        ON f.level = 0 AND l."index" = f.position
    UNION ALL
    SELECT 1, f.level, t.hash FROM frontier f JOIN {AuditTreeNode._meta.db_table} t
        ON f.level > 0 AND t.key = (f.level::bigint << {NODE_LEVEL_SHIFT}) | f.position
    UNION ALL
    (SELECT 2, event_id, leaf_hash FROM {AuditPending._meta.db_table}
     WHERE (SELECT pg_try_advisory_xact_lock(%s)) ORDER BY event_id LIMIT %s)
"""

# The batch's writes in one statement (arrays): leaves, subtree nodes, removal of the pending entries
# and the signed head.
_WRITE_BATCH = """
    WITH l AS (
        INSERT INTO {leaves} ("index", event_id, leaf_hash) SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::varchar[])
    ),
    n AS (INSERT INTO {nodes} (key, hash) SELECT * FROM unnest(%s::bigint[], %s::varchar[])),
    d AS (DELETE FROM {pending} WHERE event_id = ANY(%s))
    INSERT INTO {heads} ({columns}) VALUES ({values}) RETURNING id
"""


def _sequence_postgresql_own_transaction(batch_size: int) -> AuditTreeHead | None:
    """The batch as its own transaction in two round trips: ``BEGIN`` travels with the reads and
    ``COMMIT`` with the writes (statements of one message run in order; a failing one skips the rest,
    so a failed write never commits). Killed in between, PostgreSQL rolls the transaction back with
    the connection. Only outside any transaction of Django's (``audit_sequence`` checks)."""
    try:
        made = _sequence_postgresql(batch_size, begin="BEGIN;", commit="; COMMIT")
    except BaseException:
        _end_transaction("ROLLBACK")
        raise
    if made is None:
        _end_transaction("ROLLBACK")  # nothing written: the lock (if it was taken) goes with it
    return made


def _end_transaction(command: str) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute(command)
    except Exception:  # noqa: BLE001 - the connection is gone: PostgreSQL ended the transaction with it
        logger.warning("The sequencer could not end its transaction (%s); the connection is closed.", command)
        connection.close()


def _sequence_postgresql(batch_size: int, *, begin: str = "", commit: str = "") -> AuditTreeHead | None:
    """PostgreSQL: a batch in two statements whatever its size (the reads, the writes), plus the
    transaction's start and commit: the tree's right edge is read with the pending entries, the new
    leaves' subtree nodes are computed here in memory, and every row is written by one statement. Same
    rows as ``tree_append`` + ``head_store``."""
    with connection.cursor() as cursor:
        cursor.execute(begin + _READ_BATCH, [SEQUENCER_LOCK_ID, SEQUENCER_LOCK_ID, batch_size])
        if begin:
            cursor.nextset()
        locked = bool(cursor.fetchone()[0])
        cursor.nextset()
        rows = cursor.fetchall()
    if not locked:
        return None  # another sequencer holds it (whatever the second statement read is not ours to use)
    size, frontier, pending = 0, [], []
    for part, number, value in rows:
        if part == 0:
            size = number
        elif part == 1:
            frontier.append((number, value))
        else:
            pending.append((number, value))
    if not pending:
        return None
    frontier.sort(reverse=True)  # largest subtree first, as TreeBuilder keeps its right edge
    builder = tlog.TreeBuilder(size, [value for _, value in frontier])
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
    sql = (
        _WRITE_BATCH.format(
            leaves=AuditLeaf._meta.db_table,
            nodes=AuditTreeNode._meta.db_table,
            pending=AuditPending._meta.db_table,
            heads=AuditTreeHead._meta.db_table,
            columns=", ".join(fields),
            values=", ".join(["%s"] * len(fields)),
        )
        + commit
    )
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


def _sequencer_free() -> bool:
    """Whether no sequencer holds the lock at this instant: one statement in autocommit (a try of the
    transaction lock in its own one-statement transaction, released at once), no transaction to begin
    or commit. A hint only: ``audit_sequence`` takes the lock for real."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SEQUENCER_LOCK_ID])
        return bool(cursor.fetchone()[0])


def audit_sequence_after_commit() -> None:
    """Run by ``transaction.on_commit`` after a transaction that appended events.

    If another sequencer holds the lock, return at once, at the cost of one statement (no transaction):
    that sequencer takes this writer's events in its next batch (below). Otherwise sequence, batch after
    batch while batches find entries (each batch's snapshot sees what committed while the previous was
    written, including the events of the writers who found the lock held), for at most
    ``ON_COMMIT_SECONDS``: the next committer, or beat, carries on. Failures are logged, never raised:
    the caller's work has committed, and beat retries."""
    try:
        if not _sequencer_free():
            return
        deadline = time.monotonic() + ON_COMMIT_SECONDS
        while audit_sequence(batch_size=ON_COMMIT_BATCH_SIZE) is not None and time.monotonic() < deadline:
            pass
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
