"""Fixed-window request counters in the shared cache: the one rate-limit mechanism of the product.

The API's ``TokenRateThrottle`` counts per token; the subject's public pages count per address and
per controller. ``CACHE_URL`` is Redis when scaled out, so a limit holds across every web process.
"""

from __future__ import annotations

import time

from django.core.cache import cache


def parse_rate(rate: str) -> tuple[int, int]:
    """``"5/h"`` → (5, 3600): a count per second, minute, hour or day."""
    count, _, period = rate.partition("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period.strip()[0]]
    return int(count), seconds


def rate_hit(ident: str, rate: str, *, scope: str = "api-rate") -> tuple[bool, float]:
    """Count one request for ``ident`` in the current window: (still within ``rate``, seconds to the next window)."""
    limit, period = parse_rate(rate)
    now = time.time()
    window = int(now // period)
    key = f"{scope}:{ident}:{period}:{window}"
    cache.add(key, 0, timeout=period + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=period + 5)
        count = 1
    return count <= limit, (window + 1) * period - now
