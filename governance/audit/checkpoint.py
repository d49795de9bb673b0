"""Signed checkpoints of the audit chain head, and the integrity export an outside party verifies.

Pure functions over plain values: no Django, so ``offline_verify`` (and anyone given this file,
``chain.py`` and the ``cryptography`` package) can check an exported log.

A checkpoint says "event #N had chain hash H", signed with Ed25519. Its public key can be published
(to the regulator, on a web page, in a newspaper); anyone holding a checkpoint can later prove the
log up to #N was not rewritten, reordered or truncated, without trusting Oversight or its database.
The seal key (HMAC) cannot do this: checking an HMAC needs the secret.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

CHECKPOINT_FORMAT = "oversight-audit-checkpoint/1"
EXPORT_FORMAT = "oversight-audit-export/1"
# Event fields an integrity export carries in clear (no personal data); the personal ones travel as
# their digests only, which is all verification needs.
EXPORTED_VALUES: tuple[str, ...] = ("occurred_at", "action", "event", "target_type", "target_id")


def private_key_from_setting(value: str) -> Ed25519PrivateKey:
    seed = base64.b64decode(value)
    if len(seed) != 32:
        raise ValueError("The checkpoint key must be base64 of 32 bytes (an Ed25519 seed).")
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_pem(private_key: Ed25519PrivateKey) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def public_key_from_pem(pem: str | bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    if not isinstance(key, Ed25519PublicKey):
        raise TypeError("Not an Ed25519 public key.")
    return key


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _signed_bytes(fields: dict[str, Any]) -> bytes:
    payload = {name: fields[name] for name in ("format", "sequence", "chain_hash", "issued_at", "key_id")}
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def checkpoint_sign(
    private_key: Ed25519PrivateKey, *, sequence: int, chain_hash: str, issued_at: str
) -> dict[str, Any]:
    fields = {
        "format": CHECKPOINT_FORMAT,
        "sequence": sequence,
        "chain_hash": chain_hash,
        "issued_at": issued_at,
        "key_id": key_id(private_key.public_key()),
    }
    fields["signature"] = base64.b64encode(private_key.sign(_signed_bytes(fields))).decode()
    return fields


def checkpoint_valid(public_key: Ed25519PublicKey, checkpoint: dict[str, Any]) -> bool:
    try:
        if checkpoint.get("format") != CHECKPOINT_FORMAT or checkpoint.get("key_id") != key_id(public_key):
            return False
        public_key.verify(base64.b64decode(checkpoint["signature"]), _signed_bytes(checkpoint))
    except (InvalidSignature, KeyError, TypeError, ValueError):
        return False
    return True
