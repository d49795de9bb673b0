"""PostgreSQL itself refuses rewrites of the audit log: only the retention redaction may change a
row, and only by blanking its personal fields. Seal keys rotate: every event and seal names its key."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from governance.audit import chain
from governance.audit.models import AuditAction, AuditEvent, AuditSeal
from governance.audit.services import (
    REDACTION_SETTING,
    audit_chain_verify,
    audit_event_redact,
    audit_record,
    audit_seal_chain_head,
)

pytestmark = pytest.mark.django_db

TABLE = AuditEvent._meta.db_table


def record(n: int = 1, actor=None) -> list[AuditEvent]:
    events = []
    for i in range(n):
        with transaction.atomic():
            events.append(
                audit_record(
                    action=AuditAction.DISCLOSURE,
                    event="test.disclosed",
                    actor=actor,
                    target=("test.thing", str(i), f"Thing {i}"),
                    justification=f"Case {i}",
                    recipient="DS Patel",
                    details={"i": i},
                )
            )
    return events


def sql(statement: str, params=()) -> int:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def test_raw_update_is_refused_by_postgresql(postgres):
    [event] = record()
    with pytest.raises(DatabaseError, match="audit events are append-only: UPDATE"):
        sql(f"UPDATE {TABLE} SET justification = 'nothing to see' WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).justification == "Case 0"


def test_raw_delete_is_refused_by_postgresql(postgres):
    [event] = record()
    with pytest.raises(DatabaseError, match="audit events are append-only: DELETE"):
        sql(f"DELETE FROM {TABLE} WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_redaction_setting_allows_blanking_only(postgres):
    """Someone who finds the redaction switch still cannot rewrite: only blanking a row once."""
    [event] = record()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, 'on', true)", [REDACTION_SETTING])
        cursor.execute(f"UPDATE {TABLE} SET justification = 'forged', redacted_at = now() WHERE id = %s", [event.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, 'on', true)", [REDACTION_SETTING])
        cursor.execute(
            f"UPDATE {TABLE} SET justification = '', recipient = '', target_label = '', details = '{{}}', "
            f"redacted_at = now(), event = 'test.other' WHERE id = %s",
            [event.pk],
        )
    with pytest.raises(DatabaseError, match="append-only"):
        sql(
            f"UPDATE {TABLE} SET justification = '', recipient = '', target_label = '', details = '{{}}', "
            f"redacted_at = now() WHERE id = %s",
            [event.pk],
        )  # the right change, without the switch


def test_the_redaction_service_still_works_and_the_chain_verifies(postgres):
    events = record(3)
    audit_seal_chain_head()
    audit_event_redact(event=events[1], reason="retention period passed")
    redacted = AuditEvent.objects.get(pk=events[1].pk)
    assert redacted.justification == "" and redacted.recipient == "" and redacted.redacted_at
    assert audit_chain_verify().ok
    # The switch was transaction-local: the next statement is refused again.
    with pytest.raises(DatabaseError, match="append-only"):
        sql(f"UPDATE {TABLE} SET justification = '' WHERE id = %s", [events[2].pk])


def test_seals_cannot_be_changed_or_removed(postgres):
    record()
    seal = audit_seal_chain_head()
    with pytest.raises(DatabaseError, match="audit seals are append-only"):
        sql(f"DELETE FROM {AuditSeal._meta.db_table} WHERE id = %s", [seal.pk])
    with pytest.raises(DatabaseError, match="audit seals are append-only"):
        sql(f"UPDATE {AuditSeal._meta.db_table} SET chain_hash = 'x' WHERE id = %s", [seal.pk])


def test_deleting_a_user_keeps_their_events(postgres, cast):
    [event] = record(actor=cast.estate_reviewer)
    cast.estate_reviewer.delete()
    event = AuditEvent.objects.get(pk=event.pk)
    assert event.actor_id is None and event.actor_username == "reviewer.estate"
    assert audit_chain_verify().ok


def test_seal_key_rotation_keeps_old_entries_verifiable(settings):
    old_key, new_key = "old-seal-key-for-test", "new-seal-key-for-test"
    settings.AUDIT_SEAL_KEY = old_key
    settings.AUDIT_SEAL_OLD_KEYS = []
    first = record(2)
    audit_seal_chain_head()
    settings.AUDIT_SEAL_KEY = new_key
    settings.AUDIT_SEAL_OLD_KEYS = [old_key]
    second = record(2)
    audit_seal_chain_head()
    assert {e.signature_key_id for e in AuditEvent.objects.filter(pk__in=[e.pk for e in first])} == {
        chain.seal_key_id(old_key)
    }
    assert {e.signature_key_id for e in AuditEvent.objects.filter(pk__in=[e.pk for e in second])} == {
        chain.seal_key_id(new_key)
    }
    assert sorted(AuditSeal.objects.values_list("key_id", flat=True)) == sorted(
        [chain.seal_key_id(old_key), chain.seal_key_id(new_key)]
    )
    assert audit_chain_verify().ok
    # Dropping the old key from the configuration is reported, naming the key the entries need.
    settings.AUDIT_SEAL_OLD_KEYS = []
    report = audit_chain_verify()
    assert not report.ok and report.first_broken_sequence == first[0].sequence
    assert any(chain.seal_key_id(old_key) in problem for problem in report.problems)
