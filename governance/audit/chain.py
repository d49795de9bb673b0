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
from typing import Any

# The event digests and the chain link are written once, in tlog.py (the verifier anyone may copy runs them
# without Django): the fields covered and their order are fixed forever, changing them breaks verification.
from governance.audit.tlog import CHAINED_FIELDS as CHAINED_FIELDS
from governance.audit.tlog import canonical as canonical
from governance.audit.tlog import content_digest as content_digest
from governance.audit.tlog import field_digest as field_digest
from governance.audit.tlog import legacy_chain_hash

GENESIS_HASH = "0" * 64
chain_hash = legacy_chain_hash  # SHA-256(previous chain_hash || content_digest || sequence)

# Personal fields a retention redaction may blank (the event itself — what, when, which record —
# stays, as s.62 logs must outlive the data for verifying lawfulness).
REDACTABLE_FIELDS: tuple[str, ...] = ("justification", "recipient", "target_label", "details")


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
