"""Faults of the audit log's sequencer (issue 23): a sequencer process SIGKILLed mid-batch, and
PostgreSQL stopped mid-batch. Either way no committed event is lost and none gets two leaves: the
batch (leaves, nodes, removal of the pending entries, signed head) is one transaction, so it is
kept whole or not at all, and the next run sequences everything once.

"Mid-batch" is observed, not assumed: the test waits until the sequencer process holds its advisory
lock (``pg_locks``), which it takes at the start of the batch's transaction and keeps to the commit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from governance.audit import chain, tlog
from governance.audit.models import AuditAction, AuditEvent, AuditLeaf, AuditPending, AuditTreeHead
from governance.audit.sequencer import SEQUENCER_LOCK_ID, audit_sequence_all, next_entry_number
from governance.audit.services import audit_chain_verify, audit_record

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.slow]

PENDING = 40_000  # a batch that takes seconds, so the kill lands inside it


def append_pending(n: int) -> None:
    """``n`` committed events waiting for the sequencer, written as ``audit_record`` writes them (its
    digests, number, leaf hash, signature and pending entry), in bulk so the test is quick."""
    now = timezone.now()
    key = settings.AUDIT_SEAL_KEY
    with transaction.atomic():
        events = []
        for i in range(n):
            event = AuditEvent(
                occurred_at=now,
                action=AuditAction.CONSULTATION,
                event="faults.read",
                actor_username="system",
                target_type="faults.thing",
                target_id=str(i),
                target_label=f"Thing {i}",
                justification="Fault test",
                details={"i": i},
            )
            values = {name: getattr(event, name) for name in chain.CHAINED_FIELDS}
            event.field_digests = {name: chain.field_digest(value) for name, value in values.items()}
            event.content_digest = chain.content_digest(event.field_digests)
            event.sequence = next_entry_number()
            event.previous_hash = ""
            event.chain_hash = tlog.leaf_hash(event.sequence, event.content_digest)
            event.signature = chain.entry_signature(key, event.content_digest)
            event.signature_key_id = chain.seal_key_id(key)
            events.append(event)
        AuditEvent.objects.bulk_create(events, batch_size=5000)
        AuditPending.objects.bulk_create(
            [AuditPending(event=e, leaf_hash=e.chain_hash) for e in events], batch_size=5000
        )


def sequencer_process(fault_servers) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": fault_servers.pg.url(connection.settings_dict["NAME"])}
    return subprocess.Popen(
        [sys.executable, "manage.py", "audit_sequence", "--once", "--batch-size", str(PENDING * 2)],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def sequencer_lock_held() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = %s AND granted",
            [SEQUENCER_LOCK_ID],
        )
        return cursor.fetchone()[0] > 0


def wait_mid_batch(process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while not sequencer_lock_held():
        assert process.poll() is None, f"the sequencer ended before it was caught mid-batch: {process.stdout.read()}"
        assert time.monotonic() < deadline, "the sequencer never took its lock"
        time.sleep(0.02)


def assert_everything_sequenced_once(expected: int) -> None:
    audit_sequence_all()
    assert not AuditPending.objects.exists()
    leaves = list(AuditLeaf.objects.order_by("index").values_list("index", "event_id"))
    assert [index for index, _ in leaves] == list(range(expected))  # gapless, no number twice
    assert len({event_id for _, event_id in leaves}) == expected == AuditEvent.objects.count()  # no event twice
    report = audit_chain_verify()
    assert report.ok, report.problems[:5]


@pytest.mark.django_db(transaction=True)
def test_a_sequencer_killed_mid_batch_loses_nothing_and_numbers_nothing_twice(fault_servers):
    with transaction.atomic():
        audit_record(action=AuditAction.COLLECTION, event="faults.first", actor=None, target=("t", "0", "t"))
    audit_sequence_all()
    append_pending(PENDING)
    heads_before = AuditTreeHead.objects.count()
    process = sequencer_process(fault_servers)
    wait_mid_batch(process)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    # Its transaction died with it: nothing of the batch was kept, every entry still waits.
    deadline = time.monotonic() + 30
    while sequencer_lock_held():
        assert time.monotonic() < deadline, "PostgreSQL kept the killed sequencer's lock"
        time.sleep(0.1)
    assert AuditLeaf.objects.count() == 1 and AuditPending.objects.count() == PENDING
    assert AuditTreeHead.objects.count() == heads_before
    assert_everything_sequenced_once(PENDING + 1)


@pytest.mark.django_db(transaction=True)
def test_postgresql_stopped_mid_batch_loses_nothing_and_numbers_nothing_twice(fault_servers):
    append_pending(PENDING)
    process = sequencer_process(fault_servers)
    wait_mid_batch(process)
    connection.close()
    fault_servers.pg.stop()
    output, _ = process.communicate(timeout=60)
    assert process.returncode != 0, output  # its connection went with the server
    fault_servers.pg.start()
    connection.close()
    assert AuditLeaf.objects.count() == 0 and AuditPending.objects.count() == PENDING
    with transaction.atomic():  # writers carry on after the restart
        audit_record(action=AuditAction.COLLECTION, event="faults.after", actor=None, target=("t", "1", "t"))
    assert_everything_sequenced_once(PENDING + 1)
