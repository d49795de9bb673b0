"""A subject access response carries the inclusion proofs of the audit events it cites (issue 23): the
single-file verifier confirms them offline and refuses them after any changed byte."""

from __future__ import annotations

import json

import pytest
from django.template.loader import render_to_string

from governance.audit import tlog
from governance.audit.sequencer import audit_sequence_all
from governance.subject_access.compile import compile_response
from governance.subject_access.documents import response_context, response_document
from tests.governance.subject_access.test_rights_reach import _confirmed

pytestmark = pytest.mark.django_db


def flipped(hex_text: str) -> str:
    raw = bytearray.fromhex(hex_text)
    raw[-1] ^= 0x01
    return raw.hex()


def test_the_response_carries_proofs_that_verify_offline_and_fail_on_a_changed_byte(cast, held, tmp_path):
    request = _confirmed(cast, cast.met_dpo, f"watchlist-image:{held.image.pk}", regime="dpa_part3")
    audit_sequence_all()  # what has committed has its leaf (on commit, or beat, in production)
    response = compile_response(actor=cast.met_dpo, request=request)
    document = response_document(response)
    bundle = document["audit_proofs"]
    assert len(bundle["proofs"]) == len(response.events) > 0
    assert {p["entry"]["sequence"] for p in bundle["proofs"]} == {e["sequence"] for e in document["audit_events"]}
    assert all(e["leaf_index"] is not None for e in document["audit_events"])
    # The single-file verifier, as the subject (or an adviser) runs it on the JSON they were sent.
    (tmp_path / "proofs.json").write_text(json.dumps(bundle))
    assert tlog.main(["--proofs", str(tmp_path / "proofs.json")]) == 0
    keys = tlog.load_public_keys(bundle["public_keys"].values())
    assert tlog.verify_proof_bundle(bundle, keys) == []
    # Any changed byte fails: the leaf hash, a hash of the path, the event's digest, the head's root.
    first = bundle["proofs"][0]
    changes = [
        dict(first, leaf_hash=flipped(first["leaf_hash"])),
        dict(first, entry=dict(first["entry"], content_digest=flipped(first["entry"]["content_digest"]))),
        dict(first, head=dict(first["head"], root_hash=flipped(first["head"]["root_hash"]))),
    ]
    if first["path"]:
        changes.append(dict(first, path=[flipped(first["path"][0]), *first["path"][1:]]))
    for changed in changes:
        tampered = dict(bundle, proofs=[changed, *bundle["proofs"][1:]])
        assert tlog.verify_proof_bundle(tampered, keys)
        (tmp_path / "tampered.json").write_text(json.dumps(tampered))
        assert tlog.main(["--proofs", str(tmp_path / "tampered.json")]) == 1
    # The PDF's appendix names each event's leaf, its hash, the head and how to check it.
    html = render_to_string("subject_access/response_pdf.html", response_context(response))
    assert "Appendix: proof that these audit events are in the signed log" in html
    assert "python tlog.py --proofs proofs.json" in html and bundle["head"]["root_hash"] in html
    for proof in bundle["proofs"]:
        assert proof["leaf_hash"] in html and f"leaf {proof['leaf_index']}" in html


def test_events_waiting_for_the_sequencer_are_cited_without_a_proof(cast, held):
    request = _confirmed(cast, cast.met_dpo, f"watchlist-image:{held.image.pk}", regime="dpa_part3")
    response = compile_response(actor=cast.met_dpo, request=request)  # nothing sequenced in this test's transaction
    document = response_document(response)
    assert document["audit_events"] and all(e["leaf_index"] is None for e in document["audit_events"])
    assert not document["audit_proofs"] or document["audit_proofs"]["proofs"] == []
