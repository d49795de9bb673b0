"""Signed checkpoints of the chain head and the standalone verifier an outside party runs on an
exported log: it needs no Django, and catches a rewrite that is consistent in itself."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction

from governance.audit import chain
from governance.audit.models import AuditAction
from governance.audit.services import audit_record

pytestmark = pytest.mark.django_db


def record(n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        with transaction.atomic():
            audit_record(
                action=AuditAction.CONSULTATION,
                event="test.read",
                actor=None,
                target=("test.thing", str(i), f"Thing {i}"),
                justification=f"Investigation {i}",
            )


def offline_verify(export, public_key, *checkpoints) -> subprocess.CompletedProcess:
    """Run the verifier in a fresh interpreter in which importing Django fails."""
    args = [str(export), "--public-key", str(public_key)]
    for cp in checkpoints:
        args += ["--checkpoint", str(cp)]
    code = (
        "import sys; sys.modules['django'] = None; "
        "from governance.audit.offline_verify import main; sys.exit(main(sys.argv[1:]))"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
        timeout=120,
    )


@pytest.fixture
def published(tmp_path):
    """Two checkpoints taken a while apart, the public key, and an export made after both."""
    record(3)
    call_command("audit_checkpoint", output=str(tmp_path / "cp1.json"))
    record(3, start=3)
    call_command("audit_checkpoint", output=str(tmp_path / "cp2.json"))
    record(2, start=6)
    call_command("audit_checkpoint", "--public-key", output=str(tmp_path / "key.pem"))
    call_command("export_audit_log", output=str(tmp_path / "export.jsonl"))
    return tmp_path


def load(path):
    lines = path.read_text().splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def save(path, header, events):
    path.write_text("\n".join(json.dumps(x) for x in [header, *events]) + "\n")


def rechain(events, from_index):
    """What a careful forger does: recompute every digest and hash after the change."""
    previous = events[from_index - 1]["chain_hash"] if from_index else chain.GENESIS_HASH
    for position, event in enumerate(events[from_index:], start=from_index):
        event["sequence"] = position + 1
        for name, value in event["values"].items():
            event["field_digests"][name] = chain.field_digest(value)
        event["content_digest"] = chain.content_digest(event["field_digests"])
        event["previous_hash"] = previous
        event["chain_hash"] = chain.chain_hash(previous, event["content_digest"], event["sequence"])
        previous = event["chain_hash"]


def test_an_honest_export_verifies_against_earlier_checkpoints(published):
    checkpoint = json.loads((published / "cp1.json").read_text())
    assert checkpoint["sequence"] == 3 and "signature" in checkpoint
    export = (published / "export.jsonl").read_text()
    assert "Investigation" not in export  # personal fields travel as digests only
    result = offline_verify(
        published / "export.jsonl", published / "key.pem", published / "cp1.json", published / "cp2.json"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout


def test_a_self_consistent_rewrite_before_a_checkpoint_is_caught(published):
    header, events = load(published / "export.jsonl")
    events[1]["values"]["target_id"] = "someone-else"
    rechain(events, 1)
    save(published / "forged.jsonl", header, events)
    result = offline_verify(
        published / "forged.jsonl", published / "key.pem", published / "cp1.json", published / "cp2.json"
    )
    assert result.returncode == 1
    assert "Checkpoint at #3" in result.stdout and "rewritten" in result.stdout
    assert "chain hash does not match" not in result.stdout  # the forgery is internally consistent


def test_reordering_and_truncation_are_caught(published):
    header, events = load(published / "export.jsonl")
    events[3], events[4] = events[4], events[3]
    rechain(events, 3)
    save(published / "reordered.jsonl", header, events)
    result = offline_verify(published / "reordered.jsonl", published / "key.pem", published / "cp2.json")
    assert result.returncode == 1 and "Checkpoint at #6" in result.stdout
    save(published / "truncated.jsonl", header, events[:4])
    result = offline_verify(published / "truncated.jsonl", published / "key.pem", published / "cp2.json")
    assert result.returncode == 1 and "past the export's last event #4" in result.stdout


def test_a_checkpoint_forged_with_another_key_is_refused(published, settings):
    import base64

    settings.AUDIT_CHECKPOINT_KEY = base64.b64encode(b"k" * 32).decode()
    call_command("audit_checkpoint", output=str(published / "forged-cp.json"))
    result = offline_verify(published / "export.jsonl", published / "key.pem", published / "forged-cp.json")
    assert result.returncode == 1 and "signature invalid" in result.stdout


def test_an_edited_event_is_caught_without_any_checkpoint(published):
    header, events = load(published / "export.jsonl")
    events[5]["values"]["event"] = "test.nothing"
    save(published / "edited.jsonl", header, events)
    result = offline_verify(published / "edited.jsonl", published / "key.pem")
    assert result.returncode == 1 and "Event #6: 'event' does not match its digest" in result.stdout
