"""Encryption at rest for biometric data (watchlist image bytes, face templates).

Fernet (AES-128-CBC + HMAC-SHA256, authenticated) under ``settings.ENCRYPTION_KEYS``: the *first* key
encrypts, *every* key decrypts (``MultiFernet``). Rotating a key is therefore: prepend the new key,
deploy, run ``manage.py rotate_encryption_keys`` (which re-encrypts every stored value under the new
first key via ``reencrypt``), then drop the old key. Keys come from the environment, never the
database, so a database dump alone reveals no image and no template.
"""

from __future__ import annotations

import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["InvalidToken", "decrypt", "encrypt", "key_fingerprint", "reencrypt", "reset_keys"]


@functools.lru_cache(maxsize=1)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("settings.ENCRYPTION_KEYS is empty: nothing biometric can be stored.")
    try:
        return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(f"settings.ENCRYPTION_KEYS holds an invalid Fernet key: {error}") from None


def _current() -> MultiFernet:
    # Keyed on the tuple of keys so that tests overriding settings get a matching MultiFernet.
    return _fernet(tuple(settings.ENCRYPTION_KEYS))


def reset_keys() -> None:
    _fernet.cache_clear()


def encrypt(data: bytes) -> bytes:
    """Encrypt under the first key. The result is ASCII (urlsafe base64), never the clear bytes."""
    return _current().encrypt(bytes(data))


def decrypt(token: bytes) -> bytes:
    """Decrypt with whichever configured key made ``token``; raises ``InvalidToken`` otherwise."""
    return _current().decrypt(bytes(token))


def reencrypt(token: bytes) -> bytes:
    """Re-encrypt ``token`` under the current first key (key rotation). Idempotent in effect."""
    return _current().rotate(bytes(token))


def key_fingerprint() -> str:
    """A short, non-secret identifier of the key that encrypts now (stored beside ciphertexts)."""
    import hashlib

    first = settings.ENCRYPTION_KEYS[0]
    return hashlib.sha256(first if isinstance(first, bytes) else first.encode()).hexdigest()[:12]
