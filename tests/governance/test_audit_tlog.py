"""The audit log as a transparency log (issue 23): pending appends, the sequencer, RFC 6962 proofs,
signed tree heads, the migration of the old hash chain, scoping of proofs and the regulator's pack."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from governance.audit import chain, tlog
from governance.audit.legacy import legacy_chain_into_tree
from governance.audit.models import (
    AuditAction,
    AuditEvent,
    AuditLeaf,
    AuditPending,
    AuditSeal,
    AuditTreeHead,
    AuditTreeNode,
)
from governance.audit.sequencer import (
    audit_sequence,
    audit_sequence_all,
    consistency_proof,
    head_public_keys,
    inclusion_proof,
    latest_head,
    root_at,
)
from governance.audit.services import audit_chain_verify, audit_record
from governance.errors import AuditEventNotSequenced

pytestmark = pytest.mark.django_db


def record(n: int, actor=None, start: int = 0) -> list[AuditEvent]:
    events = []
    for i in range(start, start + n):
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


def keys():
    return tlog.load_public_keys(head_public_keys().values())


def flipped(hex_text: str, position: int) -> str:
    """The same hash with one byte changed."""
    raw = bytearray.fromhex(hex_text)
    raw[position % len(raw)] ^= 0x01
    return raw.hex()


# --- the tree itself (pure) -------------------------------------------------------------------------


def test_event_digests_are_their_fixed_definitions():
    """Oversight (chain.py) hashes events with the standalone verifier's own functions (tlog.py): one definition,
    pinned here as written out, so a change to it (which would break every export's verification) fails."""
    value = {"b": [1, 2], "a": "é"}
    assert chain.field_digest(value) == hashlib.sha256('{"a":"é","b":[1,2]}'.encode()).hexdigest()
    fields = (
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
        "details",
    )
    assert chain.CHAINED_FIELDS == tlog.CHAINED_FIELDS == fields
    digests = {name: chain.field_digest(name) for name in fields}
    written_out = hashlib.sha256("".join(f"{name}={digests[name]};" for name in fields).encode()).hexdigest()
    assert chain.content_digest(digests) == tlog.content_digest(digests) == written_out
    assert chain.chain_hash("a" * 64, "b" * 64, 7) == hashlib.sha256(f"{'a' * 64}:{'b' * 64}:7".encode()).hexdigest()


def test_rfc6962_hashing_matches_a_direct_recursive_definition():
    leaves = [hashlib.sha256(bytes([i])).hexdigest() for i in range(23)]

    def mth(items):  # RFC 6962 section 2.1, written out
        if len(items) == 1:
            return items[0]
        k = 1 << ((len(items) - 1).bit_length() - 1)
        return hashlib.sha256(b"\x01" + bytes.fromhex(mth(items[:k])) + bytes.fromhex(mth(items[k:]))).hexdigest()

    for n in range(1, 24):
        assert tlog.merkle_root(leaves[:n]) == mth(leaves[:n])
    assert tlog.leaf_hash(1, "c" * 64) == hashlib.sha256(b"\x00" + tlog.leaf_data(1, "c" * 64)).hexdigest()


# --- appends, the sequencer and the heads -----------------------------------------------------------


def test_an_event_is_readable_at_once_and_gets_its_leaf_from_the_sequencer():
    [event] = record(1)
    assert AuditEvent.objects.filter(pk=event.pk).exists()  # readable before any sequencing
    assert AuditPending.objects.filter(event=event).exists()
    assert not AuditLeaf.objects.filter(event=event).exists()
    head = audit_sequence()
    assert head.tree_size == 1 and AuditLeaf.objects.get(event=event).index == 0
    assert not AuditPending.objects.exists()
    assert audit_sequence() is None  # nothing pending: no new head


@pytest.mark.django_db(transaction=True)
def test_a_committed_event_is_sequenced_on_commit_without_waiting_for_beat(settings):
    """The embedded default (SQLite, tasks in-process): the committing transaction sequences."""
    [event] = record(1)
    assert AuditLeaf.objects.get(event=event).index == 0 and not AuditPending.objects.exists()
    assert latest_head().tree_size == 1
    with transaction.atomic():  # several events in one transaction: one batch, one head, after the commit
        record(3, start=1)
        assert AuditPending.objects.count() == 3
    assert latest_head().tree_size == 4 and AuditTreeHead.objects.count() == 2
    settings.AUDIT_SEQUENCE_ON_COMMIT = False  # left to beat
    record(1, start=4)
    assert AuditPending.objects.count() == 1 and latest_head().tree_size == 4


def test_entries_of_a_rolled_back_transaction_never_appear():
    record(2)

    class Refused(Exception):
        pass

    with pytest.raises(Refused), transaction.atomic():
        record(1, start=99)
        raise Refused
    record(1, start=3)
    audit_sequence_all()
    assert not AuditEvent.objects.filter(target_id="99").exists()
    assert list(AuditLeaf.objects.values_list("event__target_id", flat=True)) == ["0", "1", "3"]
    assert audit_chain_verify().ok


def test_the_sequencer_works_in_batches_each_signing_a_head():
    record(7)
    sizes = []
    while head := audit_sequence(batch_size=3):
        sizes.append(head.tree_size)
    assert sizes == [3, 6, 7]
    assert list(AuditLeaf.objects.values_list("index", flat=True)) == list(range(7))
    assert [h.tree_size for h in AuditTreeHead.objects.all()] == [3, 6, 7]
    for head in AuditTreeHead.objects.all():
        assert tlog.head_valid(keys(), head.as_dict())
        assert root_at(head.tree_size) == head.root_hash
    report = audit_chain_verify()
    assert report.ok, report.problems
    assert (report.events_checked, report.heads_checked, report.pending) == (7, 3, 0)


def test_verification_checks_pending_events_and_reports_strays():
    events = record(3)
    audit_sequence_all()
    record(2, start=3)  # pending
    report = audit_chain_verify()
    assert report.ok and report.pending == 2 and report.events_checked == 5
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(f"DELETE FROM {AuditPending._meta.db_table} WHERE event_id = %s", [events[0].pk + 3])
    report = audit_chain_verify()
    assert not report.ok and "neither leaves of the tree nor waiting" in report.problems[-1]


def test_heads_are_signed_with_a_rotated_key_and_still_verify(settings):
    import base64

    record(2)
    audit_sequence_all()
    old = (
        settings.AUDIT_CHECKPOINT_KEY
        or base64.b64encode(hashlib.sha256(b"oversight-development-checkpoint-key").digest()).decode()
    )
    settings.AUDIT_CHECKPOINT_KEY = base64.b64encode(b"n" * 32).decode()
    settings.AUDIT_CHECKPOINT_OLD_KEYS = [old]
    record(1, start=2)
    audit_sequence_all()
    key_ids = list(AuditTreeHead.objects.values_list("key_id", flat=True))
    assert len(set(key_ids)) == 2
    assert audit_chain_verify().ok
    settings.AUDIT_CHECKPOINT_OLD_KEYS = []
    report = audit_chain_verify()
    assert not report.ok and "OVERSIGHT_AUDIT_CHECKPOINT_OLD_KEYS" in report.problems[0]


# --- proofs --------------------------------------------------------------------------------------


def test_inclusion_proofs_verify_and_fail_on_any_changed_byte():
    events = record(13)
    audit_sequence(batch_size=5)  # a head of 5, then of 13
    audit_sequence_all()
    first = AuditTreeHead.objects.get(tree_size=5)
    for event in events:
        proof = inclusion_proof(event)
        assert proof["head"]["tree_size"] == 13
        assert tlog.verify_proof(proof, keys()) == []
        assert len(proof["path"]) <= 4  # logarithmic: ceil(log2(13))
        for position in range(len(proof["path"])):
            for byte in (0, 17, 31):
                bad = json.loads(json.dumps(proof))
                bad["path"][position] = flipped(bad["path"][position], byte)
                assert tlog.verify_proof(bad, keys()), (event.sequence, position, byte)
        for byte in (0, 31):
            bad = json.loads(json.dumps(proof))
            bad["leaf_hash"] = flipped(bad["leaf_hash"], byte)
            assert tlog.verify_proof(bad, keys())
            bad = json.loads(json.dumps(proof))
            bad["head"]["root_hash"] = flipped(bad["head"]["root_hash"], byte)
            assert tlog.verify_proof(bad, keys())  # the signature no longer holds
            bad = json.loads(json.dumps(proof))
            bad["entry"]["content_digest"] = flipped(bad["entry"]["content_digest"], byte)
            assert tlog.verify_proof(bad, keys())
        bad = json.loads(json.dumps(proof))
        bad["leaf_index"] = (bad["leaf_index"] + 1) % 13
        assert tlog.verify_proof(bad, keys())
    early = inclusion_proof(events[2], first)
    assert early["head"]["tree_size"] == 5 and tlog.verify_proof(early, keys()) == []
    with pytest.raises(AuditEventNotSequenced):
        inclusion_proof(events[9], first)  # not in the head of 5


def test_an_event_waiting_for_the_sequencer_has_no_proof_yet():
    [event] = record(1)
    with pytest.raises(AuditEventNotSequenced):
        inclusion_proof(event)


def test_consistency_proofs_verify_and_fail_on_any_changed_byte():
    record(6)
    audit_sequence_all()
    record(11, start=6)
    audit_sequence(batch_size=4)
    audit_sequence_all()
    heads = list(AuditTreeHead.objects.order_by("tree_size"))
    assert [h.tree_size for h in heads] == [6, 10, 17]
    for a in heads:
        for b in heads:
            if a.tree_size < b.tree_size:
                proof = consistency_proof(a, b)
                assert tlog.verify_proof(proof, keys()) == []
                for position in range(len(proof["path"])):
                    for byte in (0, 31):
                        bad = json.loads(json.dumps(proof))
                        bad["path"][position] = flipped(bad["path"][position], byte)
                        assert tlog.verify_proof(bad, keys())
                bad = json.loads(json.dumps(proof))
                bad["path"] = bad["path"][:-1]
                assert tlog.verify_proof(bad, keys())


def test_proof_paths_stay_logarithmic():
    record(40)
    audit_sequence_all()
    event = AuditLeaf.objects.get(index=17).event
    assert len(inclusion_proof(event)["path"]) == 6  # ceil(log2(40))
    assert AuditTreeNode.objects.count() == 40 - bin(40).count("1")  # one node per merge: n - popcount(n)


# --- scoping ------------------------------------------------------------------------------------


def test_a_proof_is_served_to_a_party_that_may_see_the_event_and_not_found_for_another(cast, client):
    with transaction.atomic():
        mine = audit_record(
            action=AuditAction.CONSULTATION,
            event="test.read",
            actor=cast.camden_dpo,
            target=("test.thing", "1", "Thing"),
            justification="Case",
        )
    with transaction.atomic():
        theirs = audit_record(
            action=AuditAction.CONSULTATION,
            event="test.read",
            actor=cast.btp_dpo,
            target=("test.thing", "2", "Thing"),
            justification="Case",
        )
    api = APIClient()
    api.force_authenticate(cast.camden_dpo)
    waiting = api.get(f"/api/v1/audit-events/{mine.sequence}/proof/")
    assert waiting.status_code == 409 and waiting.json()["error"]["code"] == "audit_event_not_sequenced"
    audit_sequence_all()
    response = api.get(f"/api/v1/audit-events/{mine.sequence}/proof/")
    assert response.status_code == 200
    assert tlog.verify_proof(response.json(), keys()) == []
    other = api.get(f"/api/v1/audit-events/{theirs.sequence}/proof/")
    missing = api.get("/api/v1/audit-events/999999999/proof/")
    assert other.status_code == missing.status_code == 404
    assert other.json()["error"]["code"] == missing.json()["error"]["code"] == "not_found"
    api.force_authenticate(cast.regulator)
    assert api.get(f"/api/v1/audit-events/{theirs.sequence}/proof/").status_code == 200
    client.force_login(cast.camden_dpo)
    page = client.get(f"/audit/{mine.sequence}/proof.json")
    assert page.status_code == 200 and tlog.verify_proof(json.loads(page.content), keys()) == []
    assert client.get(f"/audit/{theirs.sequence}/proof.json").status_code == 404


def test_the_public_page_publishes_heads_and_consistency_proofs(client):
    record(3)
    audit_sequence_all()
    record(2, start=3)
    audit_sequence_all()
    published = client.get("/transparency/audit-log/").json()
    assert [h["tree_size"] for h in published["heads"]] == [5, 3]
    public = tlog.load_public_keys(published["public_keys"].values())
    assert all(tlog.head_valid(public, h) for h in published["heads"])
    proof = client.get("/transparency/audit-log/?first=3&second=5").json()
    assert tlog.verify_proof(proof, public) == []
    assert client.get("/transparency/audit-log/?first=4&second=5").status_code == 404


# --- the regulator's pack -------------------------------------------------------------------------


def pack_evidence_of(report) -> dict:
    [section] = [s for s in report.sections if s.code == "audit_log_heads"]
    return json.loads(section.notes[-1])


def test_the_regulator_confirms_from_its_pack_alone_that_last_quarters_log_is_a_prefix_of_todays(cast, tmp_path):
    from governance.reports.pack import regulator_pack

    with time_machine.travel(timezone.now() - timedelta(days=100), tick=False):
        record(4)
        audit_sequence_all()
        first_pack = pack_evidence_of(regulator_pack(cast.regulator))  # last quarter's pack
    record(3, start=4)
    audit_sequence_all()
    second_pack = pack_evidence_of(regulator_pack(cast.regulator))
    kept = first_pack["latest_head"]  # what the regulator kept from last quarter's pack
    # Today's pack proves from the head the regulator received then (kept per regulator), to today's.
    assert second_pack["previous_head"] == kept and "pack received on" in second_pack["previous_head_source"]
    assert second_pack["latest_head"]["tree_size"] == kept["tree_size"] + 3
    (tmp_path / "pack.json").write_text(json.dumps(second_pack))
    (tmp_path / "head.json").write_text(json.dumps(kept))
    assert tlog.main(["--pack", str(tmp_path / "pack.json"), "--head", str(tmp_path / "head.json")]) == 0
    call_command("verify_audit_export", pack=str(tmp_path / "pack.json"), head=[str(tmp_path / "head.json")])
    # Had the log been rewritten since, today's head could not extend last quarter's.
    forged = dict(second_pack, latest_head=dict(second_pack["latest_head"], root_hash=flipped(kept["root_hash"], 3)))
    forged["consistency_proof"] = dict(forged["consistency_proof"], second=forged["latest_head"])
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    assert tlog.main(["--pack", str(tmp_path / "forged.json"), "--head", str(tmp_path / "head.json")]) == 1
    with pytest.raises(CommandError):
        call_command("verify_audit_export", pack=str(tmp_path / "forged.json"), head=[str(tmp_path / "head.json")])
    # A pack proving from some other earlier head than the one the regulator kept is caught too.
    other = dict(kept, tree_size=kept["tree_size"] - 1)
    (tmp_path / "other.json").write_text(json.dumps(other))
    assert tlog.main(["--pack", str(tmp_path / "pack.json"), "--head", str(tmp_path / "other.json")]) == 1
    # A changed byte anywhere in the proof's path fails.
    if second_pack["consistency_proof"]["path"]:
        bad = json.loads(json.dumps(second_pack))
        bad["consistency_proof"]["path"][0] = flipped(bad["consistency_proof"]["path"][0], 0)
        assert tlog.verify_pack_evidence(bad, tlog.load_public_keys(bad["public_keys"].values()), kept)


# --- commit order (PostgreSQL: two writers at once) ------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_entry_committing_after_a_later_numbered_one_is_sequenced_not_skipped(postgres):
    """Writer A takes its number first but commits last; the sequencer runs in between (on B's commit)."""
    holding, release, done = threading.Event(), threading.Event(), threading.Event()
    numbers = {}

    def slow_writer():
        try:
            with transaction.atomic():
                numbers["a"] = audit_record(
                    action=AuditAction.COLLECTION, event="test.slow", actor=None, target=("t", "a", "a")
                ).sequence
                holding.set()
                release.wait(30)
        finally:
            connections.close_all()
            done.set()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert holding.wait(30)
    with transaction.atomic():
        numbers["b"] = audit_record(
            action=AuditAction.COLLECTION, event="test.fast", actor=None, target=("t", "b", "b")
        ).sequence
    assert numbers["a"] < numbers["b"]
    # B's commit sequenced what had committed: only B; A is invisible, not lost.
    assert latest_head().tree_size == 1 and not AuditPending.objects.exists()  # A uncommitted: unseen
    release.set()
    assert done.wait(30)
    thread.join()
    assert latest_head().tree_size == 2 and not AuditPending.objects.exists()  # A's own commit sequenced it
    order = list(AuditLeaf.objects.order_by("index").values_list("event__sequence", flat=True))
    assert order == [numbers["b"], numbers["a"]]  # commit order
    assert audit_chain_verify().ok


# --- the old chain ------------------------------------------------------------------------------


def old_chain_events(n: int) -> list[AuditEvent]:
    """Rows as the hash chain wrote them before the transparency log (sequence 1..n, linked)."""
    from django.conf import settings

    events, previous = [], chain.GENESIS_HASH
    for seq in range(1, n + 1):
        event = AuditEvent(
            sequence=seq,
            occurred_at=timezone.now(),
            action=AuditAction.CONSULTATION,
            event="old.read",
            actor=None,
            actor_username="system",
            target_type="old.thing",
            target_id=str(seq),
            target_label=f"Old {seq}",
            justification=f"Old case {seq}",
            details={},
        )
        values = {name: getattr(event, name) for name in chain.CHAINED_FIELDS}
        event.field_digests = {name: chain.field_digest(v) for name, v in values.items()}
        event.content_digest = chain.content_digest(event.field_digests)
        event.previous_hash = previous
        event.chain_hash = chain.chain_hash(previous, event.content_digest, seq)
        event.signature = chain.event_signature(settings.AUDIT_SEAL_KEY, seq, event.chain_hash)
        event.signature_key_id = chain.seal_key_id(settings.AUDIT_SEAL_KEY)
        event.save(force_insert=True)
        events.append(event)
        previous = event.chain_hash
    AuditSeal.objects.create(
        sequence=n,
        chain_hash=previous,
        sealed_at=timezone.now(),
        key_id=chain.seal_key_id(settings.AUDIT_SEAL_KEY),
        signature=chain.seal_signature(settings.AUDIT_SEAL_KEY, n, previous),
    )
    return events


def migrate_old_chain():
    return legacy_chain_into_tree(
        event_model=AuditEvent, leaf_model=AuditLeaf, node_model=AuditTreeNode, head_model=AuditTreeHead
    )


def test_the_old_chain_becomes_the_first_leaves_and_the_first_head_records_its_end(tmp_path):
    old = old_chain_events(5)
    head = migrate_old_chain()
    assert head["tree_size"] == 5
    assert (head["legacy_chain_size"], head["legacy_chain_hash"]) == (5, old[-1].chain_hash)
    assert list(AuditLeaf.objects.values_list("event_id", flat=True)) == [e.pk for e in old]
    assert migrate_old_chain() is None  # idempotent
    new = record(3)
    assert all(e.sequence > 5 for e in new)
    audit_sequence_all()
    assert latest_head().tree_size == 8
    report = audit_chain_verify()
    assert report.ok, report.problems
    assert report.seals_checked == 1  # the old chain's seal still verifies
    proof = inclusion_proof(old[1])
    assert proof["entry"]["legacy_chain_hash"] == old[1].chain_hash and tlog.verify_proof(proof, keys()) == []
    assert tlog.verify_proof(consistency_proof(AuditTreeHead.objects.first(), latest_head()), keys()) == []
    call_command("export_audit_log", output=str(tmp_path / "export.jsonl"))
    with open(tmp_path / "export.jsonl") as handle:
        assert tlog.verify_export(handle, keys(), []) == []


def test_a_broken_link_of_the_old_chain_is_still_caught_after_migration(tmp_path):
    from django.db.models import QuerySet

    old = old_chain_events(4)
    migrate_old_chain()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        QuerySet(model=AuditEvent).filter(pk=old[2].pk).update(previous_hash="f" * 64)
    report = audit_chain_verify()
    assert not report.ok and report.first_broken_sequence == 3
    call_command("export_audit_log", output=str(tmp_path / "export.jsonl"))
    with open(tmp_path / "export.jsonl") as handle:
        problems = tlog.verify_export(handle, keys(), [])
    assert any("Event #3" in p for p in problems), problems


def test_the_verify_command_checks_an_export_with_heads_and_proofs(tmp_path):
    from django.core.management.base import CommandError

    events = record(4)
    call_command("audit_checkpoint", output=str(tmp_path / "head.json"))
    call_command("audit_checkpoint", "--public-key", output=str(tmp_path / "key.pem"))
    call_command("export_audit_log", output=str(tmp_path / "export.jsonl"))
    (tmp_path / "proof.json").write_text(json.dumps(inclusion_proof(events[1])))
    args = [str(tmp_path / "export.jsonl"), "--public-key", str(tmp_path / "key.pem")]
    args += ["--head", str(tmp_path / "head.json"), "--proof", str(tmp_path / "proof.json")]
    call_command("verify_audit_export", *args)
    lines = (tmp_path / "export.jsonl").read_text().splitlines()
    lines[2], lines[3] = lines[3], lines[2]
    (tmp_path / "export.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(CommandError, match="problem"):
        call_command("verify_audit_export", *args)


# --- the lean append and sequencer (PostgreSQL) -----------------------------------------------------


def _sequencer_lock_holders() -> int:
    from governance.audit.sequencer import SEQUENCER_LOCK_ID

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND granted", [SEQUENCER_LOCK_ID]
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_sequencer_batch_outside_a_transaction_is_its_own_and_leaves_nothing_open(postgres, settings):
    """Outside Django's transactions the batch begins and commits in its statements' text: afterwards the
    connection is idle (no transaction left open) and the lock free, whether it sequenced or found nothing."""
    from psycopg.pq import TransactionStatus

    settings.AUDIT_SEQUENCE_ON_COMMIT = False  # left for the run below
    for n in range(3):
        with transaction.atomic():
            audit_record(action=AuditAction.COLLECTION, event="test.batch", actor=None, target=("t", str(n), "t"))
    assert AuditPending.objects.count() == 3
    assert audit_sequence().tree_size == 3
    assert connection.connection.pgconn.transaction_status == TransactionStatus.IDLE
    assert _sequencer_lock_holders() == 0 and not AuditPending.objects.exists()
    assert audit_sequence() is None  # nothing pending
    assert connection.connection.pgconn.transaction_status == TransactionStatus.IDLE
    assert _sequencer_lock_holders() == 0
    assert audit_chain_verify().ok


@pytest.mark.django_db(transaction=True)
def test_a_writer_finding_the_sequencer_busy_leaves_its_event_to_the_holder(postgres):
    """The on-commit check respects the lock held by another sequencer (here a second connection holding
    it): the writer returns, its event waits, and the holder's next run sequences it; nothing is lost."""
    import psycopg

    from governance.audit.sequencer import SEQUENCER_LOCK_ID

    db = connection.settings_dict
    other = psycopg.connect(
        dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"] or None
    )
    try:
        other.execute("SELECT pg_advisory_lock(%s)", [SEQUENCER_LOCK_ID])
        with transaction.atomic():
            audit_record(action=AuditAction.COLLECTION, event="test.busy", actor=None, target=("t", "1", "t"))
        assert AuditPending.objects.count() == 1 and latest_head() is None  # left to the holder
        assert audit_sequence() is None  # a second sequencer does not take it either
    finally:
        other.close()  # the holder's run ends
    head = audit_sequence_all()
    assert head.tree_size == 1 and not AuditPending.objects.exists()
    assert audit_chain_verify().ok


@pytest.mark.django_db(transaction=True)
def test_a_failed_first_append_on_a_connection_does_not_break_its_later_appends(postgres):
    """The append statement is prepared by a connection's first append, in the same message as its
    execution; when that execution fails (here a target type over its 80 characters: a clear database
    error, the caller's transaction rolled back), the next append on the same connection still works."""
    from django.db import DataError

    connection.close()  # a fresh connection: its first append prepares
    with pytest.raises(DataError), transaction.atomic():
        audit_record(action=AuditAction.COLLECTION, event="test.bad", actor=None, target=("t" * 81, "1", "t"))
    for n in range(2):
        with transaction.atomic():
            audit_record(action=AuditAction.COLLECTION, event="test.good", actor=None, target=("t", str(n), "t"))
    assert AuditEvent.objects.filter(event="test.bad").count() == 0
    assert AuditEvent.objects.filter(event="test.good").count() == 2
    audit_sequence_all()
    assert audit_chain_verify().ok
