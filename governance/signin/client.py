"""The client's address, as the lockout and the audit log see it.

Production runs behind a TLS proxy (README), so REMOTE_ADDR is the proxy. The proxies we trust each
append one address to X-Forwarded-For; the client is the entry that many places from the right.
Entries further left are whatever the client claimed and are ignored (a spoofed header cannot move
an attacker to a fresh lockout counter). Anything that is not an IP address counts as none.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str | None:
    remote = _valid(request.META.get("REMOTE_ADDR", "") or "")
    proxies = settings.OVERSIGHT_TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) >= proxies:
        return _valid(forwarded[-proxies]) or remote
    return remote
