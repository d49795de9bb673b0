"""Signed tree heads (the checkpoints an outside party keeps) and the standalone verifier it runs on an
exported log: one file, no Django, and it catches a rewrite that is consistent in itself."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction

from governance.audit import tlog
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


def offline_verify(tmp_path, export, public_key, *heads, proofs=()) -> subprocess.CompletedProcess:
    """Run tlog.py as a loose file copied elsewhere, in an interpreter in which importing Django fails."""
    script = tmp_path / "outside" / "tlog.py"
    script.parent.mkdir(exist_ok=True)
    shutil.copy(settings.BASE_DIR / "governance" / "audit" / "tlog.py", script)
    args = ([str(export)] if export else []) + ["--public-key", str(public_key)]
    for head in heads:
        args += ["--head", str(head)]
    for proof in proofs:
        args += ["--proof", str(proof)]
    code = "import sys, runpy; sys.modules['django'] = None; sys.argv = ['tlog.py', *sys.argv[1:]]; "
    code += f"runpy.run_path({str(script)!r}, run_name='__main__')"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=script.parent,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
        timeout=120,
    )


@pytest.fixture
def published(tmp_path):
    """Two heads taken a while apart, the public key, and an export made after both."""
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


def save(path, header, events, *, keep_heads: bool = False):
    header = dict(header, heads=header["heads"] if keep_heads else [])  # the heads a forger would carry are not trusted
    path.write_text("\n".join(json.dumps(x) for x in [header, *events]) + "\n")


def rehash(events, from_index):
    """What a careful forger does: recompute every digest and leaf hash after the change."""
    for position, event in enumerate(events[from_index:], start=from_index):
        event["leaf_index"] = position
        for name, value in event["values"].items():
            event["field_digests"][name] = tlog.field_digest(value)
        event["content_digest"] = tlog.content_digest(event["field_digests"])
        event["leaf_hash"] = tlog.leaf_hash(event["sequence"], event["content_digest"])


def test_an_honest_export_verifies_against_earlier_heads(published):
    head = json.loads((published / "cp1.json").read_text())
    assert head["tree_size"] == 3 and head["format"] == tlog.HEAD_FORMAT and "signature" in head
    export = (published / "export.jsonl").read_text()
    assert "Investigation" not in export  # personal fields travel as digests only
    assert len(export.splitlines()) == 9  # the header and eight leaves: the export sequenced first
    result = offline_verify(
        published, published / "export.jsonl", published / "key.pem", published / "cp1.json", published / "cp2.json"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout


def test_the_old_command_line_still_works(published):
    code = "import sys; sys.modules['django'] = None; from governance.audit.offline_verify import main; "
    code += "sys.exit(main(sys.argv[1:]))"
    args = [str(published / "export.jsonl"), "--public-key", str(published / "key.pem")]
    args += ["--checkpoint", str(published / "cp1.json")]
    result = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=settings.BASE_DIR, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_self_consistent_rewrite_before_a_head_is_caught(published):
    header, events = load(published / "export.jsonl")
    events[1]["values"]["target_id"] = "someone-else"
    rehash(events, 1)
    save(published / "forged.jsonl", header, events)
    result = offline_verify(
        published, published / "forged.jsonl", published / "key.pem", published / "cp1.json", published / "cp2.json"
    )
    assert result.returncode == 1
    assert "Head of size 3" in result.stdout and "were changed" in result.stdout
    assert "does not match its digest" not in result.stdout  # the forgery is internally consistent
    assert "leaf hash does not match" not in result.stdout


def test_reordering_and_truncation_are_caught(published):
    header, events = load(published / "export.jsonl")
    swapped = copy.deepcopy([*events[:3], events[4], events[3], *events[5:]])
    save(published / "swapped.jsonl", header, swapped)
    result = offline_verify(published, published / "swapped.jsonl", published / "key.pem", published / "cp2.json")
    assert result.returncode == 1 and "out of order" in result.stdout
    rehash(swapped, 3)  # renumbered so the leaves run on: the root is still not the signed one
    save(published / "reordered.jsonl", header, swapped)
    result = offline_verify(published, published / "reordered.jsonl", published / "key.pem", published / "cp2.json")
    assert result.returncode == 1 and "Head of size 6" in result.stdout, result.stdout
    save(published / "truncated.jsonl", header, events[:4])
    result = offline_verify(published, published / "truncated.jsonl", published / "key.pem", published / "cp2.json")
    assert result.returncode == 1 and "past the export's last leaf 3" in result.stdout


def test_a_head_forged_with_another_key_is_refused(published):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    real = json.loads((published / "cp2.json").read_text())
    fields = {k: real[k] for k in ("tree_size", "root_hash", "issued_at", "legacy_chain_size", "legacy_chain_hash")}
    forged = tlog.head_sign(Ed25519PrivateKey.from_private_bytes(b"k" * 32), **fields)
    (published / "forged-cp.json").write_text(json.dumps(forged))
    result = offline_verify(published, published / "export.jsonl", published / "key.pem", published / "forged-cp.json")
    assert result.returncode == 1 and "signature invalid" in result.stdout


def test_an_edited_event_is_caught_without_any_head(published):
    header, events = load(published / "export.jsonl")
    events[5]["values"]["event"] = "test.nothing"
    save(published / "edited.jsonl", header, events)
    result = offline_verify(published, published / "edited.jsonl", published / "key.pem")
    assert (
        result.returncode == 1 and f"Event #{events[5]['sequence']}: 'event' does not match its digest" in result.stdout
    )


def test_the_heads_carried_in_the_export_are_checked_too(published):
    header, events = load(published / "export.jsonl")
    assert [h["tree_size"] for h in header["heads"]] == [3, 6, 8]
    events[7]["values"]["target_id"] = "x"
    rehash(events, 7)
    save(published / "tail.jsonl", header, events, keep_heads=True)
    result = offline_verify(published, published / "tail.jsonl", published / "key.pem")
    assert result.returncode == 1 and "Head of size 8" in result.stdout
