"""An authenticator app, as the user's phone computes it (RFC 6238, SHA-1, 6 digits, 30 s), written
independently of django-otp so the tests check Oversight against the standard, not against itself."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time


def totp_code(secret_base32: str, at: float | None = None) -> str:
    key = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8))
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(key, counter.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(int.from_bytes(digest[offset : offset + 4], 'big') & 0x7FFFFFFF) % 1_000_000:06d}"
