"""Verify an exported audit log against earlier checkpoints, without Oversight or Django.

    python -m governance.audit.offline_verify audit-export.jsonl --public-key checkpoint-key.pem \
        --checkpoint checkpoint-2026-11-01.json --checkpoint checkpoint-2026-12-01.json

Checks every event's content digest against its field digests (and the clear values against
theirs), every link and chain hash, gapless sequence numbers, and that each checkpoint — signed
earlier with the published key — names an event of this export with exactly the chain hash the
checkpoint recorded. Any rewrite, deletion, insertion or reordering of events up to a checkpoint,
or a truncation before it, fails. Exit status 0 when all holds, 1 otherwise (each problem printed).
Needs only the standard library, ``cryptography``, and ``chain.py`` / ``checkpoint.py`` beside it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable

try:  # as a module of the Oversight package, or as loose files copied next to each other
    from governance.audit import chain, checkpoint
except ImportError:  # pragma: no cover - exercised by outside parties
    import chain  # type: ignore[no-redef]
    import checkpoint  # type: ignore[no-redef]


def verify(lines: Iterable[str], checkpoints: list[dict], public_key_pem: str) -> list[str]:
    problems: list[str] = []
    public_key = checkpoint.public_key_from_pem(public_key_pem)
    hashes: dict[int, str] = {}
    expected, previous = 1, chain.GENESIS_HASH
    header_seen = False
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            problems.append(f"Line {number}: not JSON.")
            continue
        if not header_seen:
            header_seen = True
            if record.get("format") != checkpoint.EXPORT_FORMAT:
                problems.append(f"Line {number}: not an Oversight audit export ({checkpoint.EXPORT_FORMAT}).")
            continue
        try:
            seq = int(record["sequence"])
            digests = record["field_digests"]
            if seq != expected:
                problems.append(f"Event #{expected} is missing or out of order (found #{seq}).")
            if set(digests) != set(chain.CHAINED_FIELDS):
                problems.append(f"Event #{seq}: digest set altered.")
            elif chain.content_digest(digests) != record["content_digest"]:
                problems.append(f"Event #{seq}: content digest does not match its fields.")
            for name in checkpoint.EXPORTED_VALUES:
                if chain.field_digest(record["values"][name]) != digests.get(name):
                    problems.append(f"Event #{seq}: '{name}' does not match its digest.")
            if record["previous_hash"] != previous:
                problems.append(f"Event #{seq}: link to the previous event is broken.")
            if chain.chain_hash(record["previous_hash"], record["content_digest"], seq) != record["chain_hash"]:
                problems.append(f"Event #{seq}: chain hash does not match.")
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            problems.append(f"Line {number}: malformed event ({error.__class__.__name__}).")
            continue
        hashes[seq] = record["chain_hash"]
        previous, expected = record["chain_hash"], seq + 1
    if not header_seen:
        problems.append("The export is empty.")
    last = expected - 1
    for cp in checkpoints:
        if not checkpoint.checkpoint_valid(public_key, cp):
            problems.append(
                f"Checkpoint at #{cp.get('sequence')} ({cp.get('issued_at')}): signature invalid for this key."
            )
            continue
        seq = cp["sequence"]
        if seq > last:
            problems.append(
                f"Checkpoint at #{seq} ({cp['issued_at']}) is past the export's last event #{last}: events removed."
            )
        elif hashes.get(seq) != cp["chain_hash"]:
            problems.append(
                f"Checkpoint at #{seq} ({cp['issued_at']}) does not match: events up to #{seq} were rewritten."
            )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export", help="the JSON-lines file from manage.py export_audit_log")
    parser.add_argument("--public-key", required=True, help="PEM file of the published checkpoint key")
    parser.add_argument("--checkpoint", action="append", default=[], help="a checkpoint JSON file (repeat)")
    args = parser.parse_args(argv)
    with open(args.public_key, encoding="utf-8") as handle:
        pem = handle.read()
    checkpoints = []
    for path in args.checkpoint:
        with open(path, encoding="utf-8") as handle:
            checkpoints.append(json.load(handle))
    with open(args.export, encoding="utf-8") as handle:
        problems = verify(handle, checkpoints, pem)
    for problem in problems:
        print(problem)
    if problems:
        print(f"FAILED: {len(problems)} problem(s).")
        return 1
    print(f"OK: the export is one unbroken chain and matches {len(checkpoints)} checkpoint(s).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
