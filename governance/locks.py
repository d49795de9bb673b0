"""Row locks the safe way: the one place product code takes ``SELECT … FOR UPDATE``.

Every row lock a service takes before ``audit_record`` (which, before the transparency log, held the chain
lock until commit) locks the row itself only, ``FOR NO KEY UPDATE``. At commit each audited transaction
checks its deferred foreign keys (actor, organisations, agreement, image) with KEY SHARE locks; a
``FOR UPDATE`` of such a row — or of organisation rows joined into the locking query by ``select_related`` —
blocks that check while its holder queues for the chain: a deadlock, found by the mixed load test
(tests/governance/test_audit_lock_order.py). ``FOR NO KEY UPDATE`` still excludes every other writer and
locker of the row, so two services changing the same row still take turns.

``tests/test_row_locks.py`` fails when product code calls ``select_for_update`` anywhere but here.
"""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Manager, Model, QuerySet

M = TypeVar("M", bound=Model)

ROW_LOCK = {"no_key": True, "of": ("self",)}


def lock_rows(rows: QuerySet[M] | Manager[M], *, skip_locked: bool = False) -> QuerySet[M]:
    """``rows`` locked until the transaction ends: ``FOR NO KEY UPDATE OF`` their own table, never the rows
    ``select_related`` joins in. ``skip_locked``: rows another transaction holds are left out (batch workers
    that share a queue). Outside PostgreSQL (SQLite: one writer at a time) Django takes no row lock."""
    return rows.select_for_update(skip_locked=skip_locked, **ROW_LOCK)
