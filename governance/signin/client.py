"""The client's address, as the lockout and the audit log see it.

Production runs behind a TLS proxy (README), so REMOTE_ADDR is the proxy. Only the proxies the
installation names in ``OVERSIGHT_TRUSTED_PROXIES`` (addresses or networks) are believed:

* a request whose REMOTE_ADDR is not a trusted proxy came straight from its client, and its
  X-Forwarded-For (which that client wrote itself) is ignored — gunicorn reached directly cannot be
  told it is someone else;
* from a trusted proxy, X-Forwarded-For is read from the right: every entry that is itself a
  trusted proxy is a hop, the first that is not is the client; an entry that is not an IP address
  stops the walk at the last trusted hop (junk is never an address). Entries further left are
  whatever the client claimed and are never read, so a spoofed header cannot move an attacker to a
  fresh lockout counter or put a chosen address in the audit log.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


@lru_cache(maxsize=8)
def _networks(configured: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in configured if entry.strip())


def trusted_proxy(address) -> bool:
    networks = _networks(tuple(settings.OVERSIGHT_TRUSTED_PROXIES))
    return address is not None and any(address in network for network in networks)


def client_address(request: HttpRequest) -> str | None:
    remote = _address(request.META.get("REMOTE_ADDR", "") or "")
    if remote is None:
        return None
    if not trusted_proxy(remote):
        return str(remote)
    hop = remote
    forwarded = [part for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if part.strip()]
    for entry in reversed(forwarded):
        address = _address(entry)
        if address is None:
            break
        hop = address
        if not trusted_proxy(address):
            break
    return str(hop)
