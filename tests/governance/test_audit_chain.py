"""The s.62 audit log: append-only, hash-chained, sealed; tampering of every kind is detected."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import QuerySet

from governance.audit import chain, tlog
from governance.audit.models import AuditAction, AuditEvent, AuditLeaf, AuditPending
from governance.audit.sequencer import audit_sequence_all
from governance.audit.services import (
    audit_chain_verify,
    audit_event_redact,
    audit_record,
    audit_seal_chain_head,
)

pytestmark = pytest.mark.django_db


def record(n: int, actor=None) -> list[AuditEvent]:
    events = []
    for i in range(n):
        with transaction.atomic():
            events.append(
                audit_record(
                    action=AuditAction.CONSULTATION,
                    event="test.read",
                    actor=actor,
                    target=("test.thing", str(i), f"Thing {i}"),
                    justification=f"Investigation {i}",
                    details={"i": i},
                )
            )
    return events


def _triggers_bypassed():
    """On PostgreSQL the append-only trigger refuses these writes (tests/governance/
    test_audit_immutable.py shows it); here the attacker is a superuser who turned triggers off
    for the session, and verification must still catch what they did."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")


def raw_update(pk: int, **fields) -> None:
    """Write to the table behind Oversight's back, as an attacker with database access would."""
    with transaction.atomic():
        _triggers_bypassed()
        QuerySet(model=AuditEvent).filter(pk=pk).update(**fields)


def raw_delete(pk: int) -> None:
    """Delete an event with its leaf (or pending entry), which would otherwise keep it referenced."""
    with transaction.atomic(), connection.cursor() as cursor:
        _triggers_bypassed()
        for model in (AuditLeaf, AuditPending):
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE event_id = %s", [pk])
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [pk])


def test_intact_chain_verifies():
    record(5)
    audit_seal_chain_head()
    report = audit_chain_verify()
    assert report.ok, report.problems
    assert report.events_checked == 5 and report.seals_checked == 1


def test_events_are_append_only():
    [event] = record(1)
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(justification="changed")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()


@pytest.mark.django_db(transaction=True)
def test_audit_record_refuses_outside_a_transaction():
    with pytest.raises(RuntimeError):
        audit_record(action=AuditAction.COLLECTION, event="x", actor=None, target=("t", "1", "t"))


def test_disclosure_must_name_recipient():
    with transaction.atomic(), pytest.raises(ValueError):
        audit_record(action=AuditAction.DISCLOSURE, event="x", actor=None, target=("t", "1", "t"))


def test_tampered_row_is_detected_and_named():
    events = record(6)
    raw_update(events[2].pk, justification="nothing to see")
    report = audit_chain_verify()
    assert not report.ok
    assert report.first_broken_sequence == events[2].sequence


def test_deleted_row_is_detected():
    events = record(6)
    audit_sequence_all()
    raw_delete(events[3].pk)
    report = audit_chain_verify()
    assert not report.ok
    assert report.first_broken_leaf == 3  # the leaf of events[3]
    assert any("does not match" in p for p in report.problems)  # and the signed head no longer does


def test_truncated_tail_is_detected_by_the_seal():
    events = record(4)
    audit_seal_chain_head()
    raw_delete(events[-1].pk)
    report = audit_chain_verify()
    assert not report.ok
    assert any("past the last leaf" in p for p in report.problems), report.problems


def test_rewritten_row_with_all_later_hashes_recomputed_is_detected():
    """An attacker who knows the hashing rules rewrites event 3 and recomputes its digests and leaf
    hash. Without the seal key and the head key (outside the database) they cannot fix the event's
    signature or re-sign the tree heads."""
    events = record(6)
    audit_seal_chain_head()
    event = AuditEvent.objects.get(pk=events[2].pk)
    event.justification = "rewritten"
    values = {name: getattr(event, name) for name in chain.CHAINED_FIELDS}
    digests = {name: chain.field_digest(value) for name, value in values.items()}
    digest = chain.content_digest(digests)
    leaf = tlog.leaf_hash(event.sequence, digest)
    raw_update(event.pk, justification="rewritten", field_digests=digests, content_digest=digest, chain_hash=leaf)
    with transaction.atomic():
        _triggers_bypassed()
        QuerySet(model=AuditLeaf).filter(event_id=event.pk).update(leaf_hash=leaf)
    report = audit_chain_verify()
    assert not report.ok
    assert report.first_broken_sequence == events[2].sequence
    assert any("Tree head of size 6" in p and "rewritten" in p for p in report.problems), report.problems


def test_redaction_keeps_the_chain_verifiable():
    events = record(3)
    audit_seal_chain_head()
    audit_event_redact(event=events[1], reason="retention period passed")
    redacted = AuditEvent.objects.get(pk=events[1].pk)
    assert redacted.justification == "" and redacted.details == {} and redacted.redacted_at
    assert audit_chain_verify().ok


def test_verify_command_names_the_first_broken_event():
    events = record(3)
    call_command("verify_audit_chain")
    raw_update(events[1].pk, target_label="forged")
    with pytest.raises(CommandError, match=f"first broken event #{events[1].sequence}"):
        call_command("verify_audit_chain")


def test_seal_is_idempotent():
    record(2)
    assert audit_seal_chain_head() is not None
    assert audit_seal_chain_head() is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_cannot_fork_the_chain(postgres):
    """Appends from several threads (separate connections), without any lock: distinct numbers, and
    the sequencer makes them one gapless run of leaves."""
    import threading

    from django.db import connections

    errors = []

    def writer(n):
        try:
            for i in range(10):
                with transaction.atomic():
                    audit_record(
                        action=AuditAction.COLLECTION,
                        event="test.concurrent",
                        actor=None,
                        target=("test.thing", f"{n}-{i}", "thing"),
                    )
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    audit_sequence_all()
    assert AuditEvent.objects.values("sequence").distinct().count() == 40
    assert list(AuditLeaf.objects.values_list("index", flat=True)) == list(range(40))
    assert audit_chain_verify().ok
