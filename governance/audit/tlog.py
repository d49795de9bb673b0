"""The audit log as a transparency log (RFC 6962 / RFC 9162): one file, no Django, anyone can run it.

    python tlog.py EXPORT.jsonl --public-key KEY.pem [--public-key OLD.pem] [--head HEAD.json ...] \
        [--proof PROOF.json ...]
    python tlog.py --pack PACK-EVIDENCE.json [--head HEAD-FROM-LAST-PACK.json] [--public-key KEY.pem]
    python tlog.py --proofs RESPONSE-PROOFS.json [--public-key KEY.pem]

This file is both the hashing rules Oversight itself uses (``governance/audit/services.py`` imports
them) and a standalone verifier an outside party runs on what they downloaded: it needs only the
Python standard library and the ``cryptography`` package. Copy it anywhere.

Tree (RFC 6962 section 2.1): leaf hash = SHA-256(0x00 || leaf data), node hash = SHA-256(0x01 ||
left || right); a tree of n leaves splits at the largest power of two below n. The leaf data of an
event binds its number and its content digest (the SHA-256 over its twelve field digests, so a
redacted event still verifies); for an event of the hash chain that came before the tree, it also
binds that event's chain hash, and the first tree head records the old chain's length and final hash.

A signed tree head (Ed25519) says "the log had N leaves with root R at time T"; a consistency proof
shows a head is a prefix of a later one (nothing rewritten or dropped), an inclusion proof shows an
event is leaf i of a head. The verifier checks:

* an export (JSON lines: a header, then one line per leaf from leaf ``start`` on): every event's clear
  values against their digests, its content digest, its leaf hash, consecutive leaf numbers, the
  legacy chain links, and, for an export from leaf 0, the root at the size of every head given or
  carried (so a forged, edited, dropped, inserted or reordered entry fails);
* every head's signature, with the public keys given (never keys the export itself carries);
* inclusion and consistency proofs (``--proof``), each against the signed heads it names;
* a pack's audit-log evidence (``--pack``): the consistency proof from the head of the receiver's
  previous pack to today's, and, given the head it kept then (``--head``), that it is that head;
* a bundle of inclusion proofs a document carries (``--proofs``, a subject access response's appendix).
  For these two, without ``--public-key`` the keys the document carries are used, and their ids printed
  to compare with the published ones.

Exit status 0 when everything holds, 1 otherwise (each problem printed).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

LEAF_FORMAT = "oversight-audit-leaf/1"
HEAD_FORMAT = "oversight-audit-tree-head/1"
EXPORT_FORMAT = "oversight-audit-export/2"

# The fields of an event covered by its content digest, in their fixed order (fixed forever: chain.py uses them too).
CHAINED_FIELDS: tuple[str, ...] = (
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
# Fields an export carries in clear (no personal data); the others travel as digests only.
EXPORTED_VALUES: tuple[str, ...] = ("occurred_at", "action", "event", "target_type", "target_id")


# --- event digests (chain.py imports these: written once) ---


def canonical(value: Any) -> bytes:
    if isinstance(value, datetime):
        value = value.isoformat(timespec="microseconds")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def field_digest(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


def content_digest(field_digests: dict[str, str]) -> str:
    h = hashlib.sha256()
    for name in CHAINED_FIELDS:
        h.update(name.encode())
        h.update(b"=")
        h.update(field_digests[name].encode())
        h.update(b";")
    return h.hexdigest()


def legacy_chain_hash(previous_hash: str, digest: str, sequence: int) -> str:
    return hashlib.sha256(f"{previous_hash}:{digest}:{sequence}".encode()).hexdigest()


# --- RFC 6962 hashing ----------------------------------------------------------------------------


def leaf_data(sequence: int, digest: str, legacy_chain: str = "") -> bytes:
    payload = {"format": LEAF_FORMAT, "sequence": sequence, "content_digest": digest, "legacy_chain_hash": legacy_chain}
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def leaf_data_prefix(digest: str, legacy_chain: str = "") -> str:
    """The leaf data up to its number, which comes last (keys sorted): ``prefix + str(n) + "}"``.
    Lets PostgreSQL hash the leaf in the statement that draws the number."""
    marker = 0
    data = leaf_data(marker, digest, legacy_chain).decode()
    if not data.endswith(f'"sequence":{marker}}}'):
        raise AssertionError("the leaf data's number is not last")
    return data[: -len(f"{marker}}}")]


def leaf_hash(sequence: int, digest: str, legacy_chain: str = "") -> str:
    return hashlib.sha256(b"\x00" + leaf_data(sequence, digest, legacy_chain)).hexdigest()


def node_hash(left: str, right: str) -> str:
    return hashlib.sha256(b"\x01" + bytes.fromhex(left) + bytes.fromhex(right)).hexdigest()


EMPTY_ROOT = hashlib.sha256(b"").hexdigest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


# A getter returns the hash of the perfect subtree at (level, index): leaves index*2**level ...
Getter = Callable[[int, int], str]


def subtree_hash(a: int, b: int, get: Getter) -> str:
    """MTH(D[a:b]) from stored perfect subtrees: O(log n) lookups."""
    if b <= a:
        return EMPTY_ROOT
    n = b - a
    if n & (n - 1) == 0 and a % n == 0:
        return get(n.bit_length() - 1, a // n)
    k = _split(n)
    return node_hash(subtree_hash(a, a + k, get), subtree_hash(a + k, b, get))


def inclusion_path(m: int, size: int, get: Getter, a: int = 0) -> list[str]:
    """RFC 6962 PATH(m, D[a:a+size]), leaf to root."""
    if size <= 1:
        return []
    k = _split(size)
    if m < a + k:
        return [*inclusion_path(m, k, get, a), subtree_hash(a + k, a + size, get)]
    return [*inclusion_path(m, size - k, get, a + k), subtree_hash(a, a + k, get)]


def consistency_path(m: int, n: int, get: Getter) -> list[str]:
    """RFC 6962 PROOF(m, D[0:n]) for 0 < m <= n."""

    def sub(m: int, a: int, n: int, whole: bool) -> list[str]:
        if m == n:
            return [] if whole else [subtree_hash(a, a + n, get)]
        k = _split(n)
        if m <= k:
            return [*sub(m, a, k, whole), subtree_hash(a + k, a + n, get)]
        return [*sub(m - k, a + k, n - k, False), subtree_hash(a, a + k, get)]

    if not 0 < m <= n:
        return []
    return sub(m, 0, n, True)


def planned(compute: Callable[[Getter], Any], fetch: Callable[[set[tuple[int, int]]], dict]) -> Any:
    """Run ``compute`` twice: first recording which nodes it needs, then with them fetched at once."""
    wanted: set[tuple[int, int]] = set()

    def record(level: int, index: int) -> str:
        wanted.add((level, index))
        return "00" * 32

    compute(record)
    found = fetch(wanted)
    missing = wanted - set(found)
    if missing:
        raise LookupError(f"tree nodes missing: {sorted(missing)[:5]}")
    return compute(lambda level, index: found[(level, index)])


def verify_inclusion(index: int, size: int, leaf: str, path: list[str], root: str) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if index >= size or index < 0:
        return False
    fn, sn, r = index, size - 1, leaf
    try:
        for p in path:
            if sn == 0:
                return False
            if fn & 1 or fn == sn:
                r = node_hash(p, r)
                if not fn & 1:
                    while not fn & 1 and fn != 0:
                        fn >>= 1
                        sn >>= 1
            else:
                r = node_hash(r, p)
            fn >>= 1
            sn >>= 1
    except ValueError:
        return False
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_root: str, second_root: str, path: list[str]) -> bool:
    """RFC 9162 section 2.1.4.2."""
    if first == second:
        return not path and first_root == second_root
    if first == 0:
        return not path
    if first > second or not path and first != second:
        return False
    path = list(path)
    if first & (first - 1) == 0:
        path = [first_root, *path]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    try:
        for c in path[1:]:
            if sn == 0:
                return False
            if fn & 1 or fn == sn:
                fr = node_hash(c, fr)
                sr = node_hash(c, sr)
                if not fn & 1:
                    while not fn & 1 and fn != 0:
                        fn >>= 1
                        sn >>= 1
            else:
                sr = node_hash(sr, c)
            fn >>= 1
            sn >>= 1
    except ValueError:
        return False
    return fr == first_root and sr == second_root and sn == 0


class TreeBuilder:
    """The right edge of a growing tree (its perfect subtrees, largest first): appending a leaf is
    O(1) amortised, the root of the current size O(log n). Streams: memory O(log n)."""

    def __init__(self, size: int = 0, frontier: list[str] | None = None) -> None:
        self.size = size
        levels = [level for level in range(size.bit_length() - 1, -1, -1) if size >> level & 1]
        frontier = frontier or []
        if len(frontier) != len(levels):
            raise ValueError("the frontier does not match the tree size")
        self.stack: list[tuple[int, str]] = list(zip(levels, frontier, strict=True))

    @staticmethod
    def frontier_keys(size: int) -> list[tuple[int, int]]:
        """(level, index) of the perfect subtrees on the right edge of a tree of ``size`` leaves."""
        keys, start = [], 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                keys.append((level, start >> level))
                start += 1 << level
        return keys

    def append(self, leaf: str) -> list[tuple[int, int, str]]:
        """Add a leaf; returns the perfect subtrees it completes, (level, index, hash), level >= 1."""
        made = []
        index = self.size
        level, h = 0, leaf
        while self.stack and self.stack[-1][0] == level:
            _, left = self.stack.pop()
            h = node_hash(left, h)
            level += 1
            index >>= 1
            made.append((level, index, h))
        self.stack.append((level, h))
        self.size += 1
        return made

    def root(self) -> str:
        if not self.stack:
            return EMPTY_ROOT
        h = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            h = node_hash(left, h)
        return h


def merkle_root(leaves: Iterable[str]) -> str:
    builder = TreeBuilder()
    for leaf in leaves:
        builder.append(leaf)
    return builder.root()


# --- signed tree heads ---------------------------------------------------------------------------

HEAD_SIGNED_FIELDS = (
    "format",
    "tree_size",
    "root_hash",
    "issued_at",
    "key_id",
    "legacy_chain_size",
    "legacy_chain_hash",
)


def head_signed_bytes(head: dict[str, Any]) -> bytes:
    return json.dumps({name: head[name] for name in HEAD_SIGNED_FIELDS}, sort_keys=True, separators=(",", ":")).encode()


def public_key_id(public_key) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def head_sign(private_key, **fields: Any) -> dict[str, Any]:
    head = {"format": HEAD_FORMAT, "key_id": public_key_id(private_key.public_key()), **fields}
    head["signature"] = base64.b64encode(private_key.sign(head_signed_bytes(head))).decode()
    return head


def load_public_keys(pems: Iterable[str | bytes]) -> dict[str, Any]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    keys = {}
    for pem in pems:
        key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
        if not isinstance(key, Ed25519PublicKey):
            raise TypeError("Not an Ed25519 public key.")
        keys[public_key_id(key)] = key
    return keys


def head_valid(public_keys: dict[str, Any], head: dict[str, Any]) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        key = public_keys.get(head["key_id"])
        if key is None or head.get("format") != HEAD_FORMAT:
            return False
        key.verify(base64.b64decode(head["signature"]), head_signed_bytes(head))
    except (InvalidSignature, KeyError, TypeError, ValueError):
        return False
    return True


# --- the verifier --------------------------------------------------------------------------------


def verify_export(lines: Iterable[str], public_keys: dict[str, Any], heads: list[dict]) -> list[str]:
    """Check an export (see the module docstring) and the heads against it. Streams the lines."""
    problems: list[str] = []
    header: dict | None = None
    builder = TreeBuilder()
    expected = 0
    previous_legacy = "0" * 64
    legacy_size, legacy_last = 0, "0" * 64
    roots: dict[int, str] = {}
    all_heads = list(heads)
    wanted: set[int] = set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            problems.append(f"Line {number}: not JSON.")
            continue
        if header is None:
            header = record
            if record.get("format") != EXPORT_FORMAT:
                problems.append(f"Line {number}: not an Oversight audit export ({EXPORT_FORMAT}).")
            expected = int(record.get("start", 0))
            all_heads += list(record.get("heads", []))
            wanted = {int(h.get("tree_size", -1)) for h in all_heads}
            continue
        try:
            index, seq = int(record["leaf_index"]), int(record["sequence"])
            digests = record["field_digests"]
            if index != expected:
                problems.append(f"Leaf {expected} is missing or out of order (found leaf {index}, event #{seq}).")
            if set(digests) != set(CHAINED_FIELDS):
                problems.append(f"Event #{seq}: digest set altered.")
            elif content_digest(digests) != record["content_digest"]:
                problems.append(f"Event #{seq}: content digest does not match its fields.")
            for name in EXPORTED_VALUES:
                if field_digest(record["values"][name]) != digests.get(name):
                    problems.append(f"Event #{seq}: '{name}' does not match its digest.")
            legacy = record.get("legacy_chain_hash") or ""
            if legacy:
                if record.get("previous_hash") != previous_legacy:
                    problems.append(f"Event #{seq}: link to the previous event of the old chain is broken.")
                if legacy_chain_hash(record["previous_hash"], record["content_digest"], seq) != legacy:
                    problems.append(f"Event #{seq}: old chain hash does not match.")
                previous_legacy = legacy
                legacy_size, legacy_last = seq, legacy
            if leaf_hash(seq, record["content_digest"], legacy) != record["leaf_hash"]:
                problems.append(f"Event #{seq} (leaf {index}): leaf hash does not match its content.")
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            problems.append(f"Line {number}: malformed entry ({error.__class__.__name__}).")
            continue
        expected = index + 1
        if header.get("start", 0) == 0:
            builder.append(record["leaf_hash"])
            if builder.size in wanted:
                roots[builder.size] = builder.root()
    if header is None:
        problems.append("The export is empty.")
        return problems
    for head in all_heads:
        size = head.get("tree_size")
        if not head_valid(public_keys, head):
            problems.append(f"Head of size {size} ({head.get('issued_at')}): signature invalid for the keys given.")
            continue
        if header.get("start", 0) != 0:
            continue  # a slice: heads are checked through the proofs
        if size > expected:
            problems.append(f"Head of size {size} ({head['issued_at']}) is past the export's last leaf {expected - 1}.")
        elif size and roots.get(size) != head["root_hash"]:
            problems.append(
                f"Head of size {size} ({head['issued_at']}) does not match: entries before it were changed."
            )
        if head.get("legacy_chain_size") and (
            head["legacy_chain_size"] != legacy_size or head["legacy_chain_hash"] != legacy_last
        ):
            problems.append(f"Head of size {size}: the old chain it records is not the one in the export.")
    return problems


def verify_proof(proof: dict[str, Any], public_keys: dict[str, Any]) -> list[str]:
    """An inclusion proof ({"type": "inclusion", "leaf_index", "leaf_hash", "path", "head"}) or a
    consistency proof ({"type": "consistency", "first", "second", "path"}), heads signed."""
    kind = proof.get("type")
    try:
        if kind == "inclusion":
            head = proof["head"]
            if not head_valid(public_keys, head):
                return ["Inclusion proof: its head's signature is invalid for the keys given."]
            if "entry" in proof:
                entry = proof["entry"]
                if content_digest(entry["field_digests"]) != entry["content_digest"] or proof["leaf_hash"] != leaf_hash(
                    entry["sequence"], entry["content_digest"], entry.get("legacy_chain_hash") or ""
                ):
                    return [f"Inclusion proof: the entry does not hash to leaf {proof['leaf_index']}."]
            if not verify_inclusion(
                proof["leaf_index"], head["tree_size"], proof["leaf_hash"], proof["path"], head["root_hash"]
            ):
                return [f"Inclusion proof of leaf {proof['leaf_index']} in the head of size {head['tree_size']} fails."]
            return []
        if kind == "consistency":
            first, second = proof["first"], proof["second"]
            if not (head_valid(public_keys, first) and head_valid(public_keys, second)):
                return ["Consistency proof: a head's signature is invalid for the keys given."]
            if not verify_consistency(
                first["tree_size"], second["tree_size"], first["root_hash"], second["root_hash"], proof["path"]
            ):
                return [
                    f"Consistency proof fails: the head of size {first['tree_size']} is not a prefix of the head "
                    f"of size {second['tree_size']}."
                ]
            return []
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        return [f"Malformed proof ({error.__class__.__name__})."]
    return [f"Unknown proof type {kind!r}."]


PACK_EVIDENCE_FORMAT = "oversight-audit-pack-evidence/1"
PROOF_BUNDLE_FORMAT = "oversight-audit-proofs/1"


def verify_pack_evidence(
    evidence: dict[str, Any], public_keys: dict[str, Any], kept_head: dict[str, Any] | None = None
) -> list[str]:
    """A pack's audit-log evidence: today's signed head, the head of the previous pack the receiver got,
    and the consistency proof between them. With the receiver's own copy of that earlier head
    (``kept_head``), also that the pack's earlier head is the one it was given then."""
    try:
        if evidence.get("format") != PACK_EVIDENCE_FORMAT:
            return [f"Not a pack's audit-log evidence (format {evidence.get('format')!r})."]
        proof, previous, latest = evidence["consistency_proof"], evidence["previous_head"], evidence["latest_head"]
        problems = verify_proof(proof, public_keys)
        for name, head, in_proof in (("earlier", previous, proof["first"]), ("latest", latest, proof["second"])):
            if (head["tree_size"], head["root_hash"]) != (in_proof["tree_size"], in_proof["root_hash"]):
                problems.append(f"The pack's {name} head is not the one its consistency proof covers.")
        if kept_head is not None and (kept_head["tree_size"], kept_head["root_hash"]) != (
            previous["tree_size"],
            previous["root_hash"],
        ):
            problems.append(
                f"The head you kept (size {kept_head['tree_size']}) is not the earlier head this pack proves from "
                f"(size {previous['tree_size']})."
            )
        return problems
    except (KeyError, TypeError, AttributeError) as error:
        return [f"Malformed pack evidence ({error.__class__.__name__})."]


def verify_proof_bundle(bundle: dict[str, Any], public_keys: dict[str, Any]) -> list[str]:
    """The inclusion proofs a document carries (e.g. a subject access response's appendix), each checked."""
    if bundle.get("format") != PROOF_BUNDLE_FORMAT or not isinstance(bundle.get("proofs"), list):
        return [f"Not a bundle of audit proofs (format {bundle.get('format')!r})."]
    problems = []
    for number, proof in enumerate(bundle["proofs"], start=1):
        problems += [f"Proof {number}: {problem}" for problem in verify_proof(proof, public_keys)]
    return problems


def _keys_from(document: dict[str, Any]) -> list[str]:
    keys = document.get("public_keys") or {}
    return list(keys.values()) if isinstance(keys, dict) else list(keys)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify an Oversight audit log export, heads and proofs offline.")
    parser.add_argument("export", nargs="?", help="the JSON-lines export (manage.py export_audit_log)")
    parser.add_argument("--public-key", action="append", default=[], help="a published head key, PEM (repeat)")
    parser.add_argument("--head", action="append", default=[], help="a signed tree head kept earlier (repeat)")
    parser.add_argument("--proof", action="append", default=[], help="an inclusion or consistency proof (repeat)")
    parser.add_argument(
        "--pack",
        help="a pack's audit-log evidence (JSON): with --head, the head kept from the previous pack",
    )
    parser.add_argument(
        "--proofs",
        action="append",
        default=[],
        help="a bundle of proofs (e.g. a subject access response's appendix, JSON)",
    )
    args = parser.parse_args(argv)
    pems = []
    for path in args.public_key:
        with open(path, encoding="utf-8") as handle:
            pems.append(handle.read())
    keys = load_public_keys(pems)
    heads = []
    for path in args.head:
        with open(path, encoding="utf-8") as handle:
            heads.append(json.load(handle))
    problems: list[str] = []
    if args.export:
        with open(args.export, encoding="utf-8") as handle:
            problems += verify_export(handle, keys, heads)
    for path in args.proof:
        with open(path, encoding="utf-8") as handle:
            problems += verify_proof(json.load(handle), keys)
    documents = []
    for path in ([args.pack] if args.pack else []) + args.proofs:
        with open(path, encoding="utf-8") as handle:
            documents.append(json.load(handle))
    if documents and not pems:  # no keys of the reader's own: the document's, said so (compare their ids)
        keys = load_public_keys(key for document in documents for key in _keys_from(document))
        print(
            f"Using the head keys the document carries, ids {', '.join(sorted(keys))}: compare them with "
            "the ids published on the operator's transparency page."
        )
    if args.pack:
        problems += verify_pack_evidence(documents[0], keys, heads[-1] if heads else None)
    for bundle in documents[1:] if args.pack else documents:
        problems += verify_proof_bundle(bundle, keys)
    for problem in problems:
        print(problem)
    if problems:
        print(f"FAILED: {len(problems)} problem(s).")
        return 1
    print(
        f"OK: export, {len(heads)} head(s), {len(args.proof)} proof(s)"
        + (", the pack's evidence (the earlier head is a prefix of today's)" if args.pack else "")
        + (f", {len(args.proofs)} bundle(s) of proofs" if args.proofs else "")
        + " verify."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
