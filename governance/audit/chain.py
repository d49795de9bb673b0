"""Hashing rules of the audit chain (pure functions, no database).

content_digest = SHA-256 over the *field digests* of an event, in a fixed order; each field digest
is SHA-256 of the field's canonical JSON. Redaction blanks a field's value but keeps its digest, so
the content digest — and therefore the chain — is unchanged and still verifiable.

chain_hash = SHA-256(previous chain_hash || content_digest || sequence).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

GENESIS_HASH = "0" * 64

# Fields covered by the chain. Order matters and is fixed forever: changing it breaks verification.
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

# Personal fields a retention redaction may blank (the event itself — what, when, which record —
# stays, as s.62 logs must outlive the data for verifying lawfulness).
REDACTABLE_FIELDS: tuple[str, ...] = ("justification", "recipient", "target_label", "details")


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


def chain_hash(previous_hash: str, digest: str, sequence: int) -> str:
    return hashlib.sha256(f"{previous_hash}:{digest}:{sequence}".encode()).hexdigest()


def seal_signature(key: str, sequence: int, head_hash: str) -> str:
    return hmac.new(key.encode(), f"{sequence}:{head_hash}".encode(), hashlib.sha256).hexdigest()


def seal_key_id(key: str) -> str:
    """A short public fingerprint of the key, so a verifier can say which key a seal needs."""
    return hashlib.sha256(b"oversight-seal-key-id:" + key.encode()).hexdigest()[:16]


def event_signature(key: str, sequence: int, event_chain_hash: str) -> str:
    return hmac.new(key.encode(), f"event:{sequence}:{event_chain_hash}".encode(), hashlib.sha256).hexdigest()


def entry_signature(key: str, digest: str) -> str:
    """The seal-key signature of an event appended since the transparency log: over its content
    digest (its number is bound by its leaf hash, and the leaves by the signed tree heads)."""
    return hmac.new(key.encode(), f"entry:{digest}".encode(), hashlib.sha256).hexdigest()


def json_roundtrip(value: Any) -> Any:
    """What a JSON column gives back, so digests computed before saving match those after."""
    return json.loads(json.dumps(value, default=str))
