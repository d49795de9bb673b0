"""Moving the old hash chain into the transparency log's tree (migration governance 0013).

The events of the chain become the first leaves, in their chain order; each leaf binds the event's
old chain hash as well as its content digest, and the first signed tree head records the chain's
length and final hash, so anyone holding an old checkpoint or seal can tie it to the tree.
"""

from __future__ import annotations

from governance.audit import tlog


def legacy_chain_into_tree(*, event_model, leaf_model, node_model, head_model, batch_size: int = 5000):
    """Give every chained event (by ``sequence``) a leaf, store the tree's nodes, sign the first head.

    Idempotent: does nothing when the tree already has leaves or there is no event. Takes model
    classes so a migration can pass its historical models. Returns the head's dict, or None.
    """
    from governance.audit.models import node_key
    from governance.audit.sequencer import head_sign, head_store

    _entry_numbers_after(event_model)
    if leaf_model.objects.exists():
        return None
    builder = tlog.TreeBuilder()
    last_sequence, last_hash = 0, "0" * 64
    leaves, nodes = [], []

    def flush() -> None:
        leaf_model.objects.bulk_create(leaves, batch_size=batch_size)
        node_model.objects.bulk_create(nodes, batch_size=batch_size)
        leaves.clear()
        nodes.clear()

    rows = event_model.objects.order_by("sequence").values_list("id", "sequence", "content_digest", "chain_hash")
    for event_id, sequence, digest, chain_hash in rows.iterator(chunk_size=batch_size):
        leaf = tlog.leaf_hash(sequence, digest, chain_hash)
        leaves.append(leaf_model(index=builder.size, event_id=event_id, leaf_hash=leaf))
        nodes.extend(node_model(key=node_key(level, index), hash=h) for level, index, h in builder.append(leaf))
        last_sequence, last_hash = sequence, chain_hash
        if len(leaves) >= batch_size:
            flush()
    flush()
    if builder.size == 0:
        return None
    head = head_sign(
        tree_size=builder.size,
        root_hash=builder.root(),
        legacy_chain_size=last_sequence,
        legacy_chain_hash=last_hash,
    )
    head_store(head, head_model)
    return head


def _entry_numbers_after(event_model) -> None:
    """PostgreSQL: new events are numbered by a sequence; make it continue after the old chain."""
    from django.db import connections

    from governance.audit.sequencer import ENTRY_SEQUENCE

    connection = connections[event_model.objects.db]
    if connection.vendor != "postgresql":
        return
    table = event_model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(%s, greatest((SELECT coalesce(max(sequence), 0) FROM {table}), "
            f"(SELECT last_value FROM {ENTRY_SEQUENCE})))",
            [ENTRY_SEQUENCE],
        )
