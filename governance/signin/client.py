"""The client's address, as the lockout and the audit log see it.

Production runs behind a TLS proxy (README), so REMOTE_ADDR is the proxy. The proxies we trust each
append one address to X-Forwarded-For; the client is the entry that many places from the right.
Entries further left are whatever the client claimed and are ignored (a spoofed header cannot move
an attacker to a fresh lockout counter).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest, *args, **kwargs) -> str:
    proxies = settings.OVERSIGHT_TRUSTED_PROXY_COUNT
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) >= proxies:
        return forwarded[-proxies][:45]
    return remote
