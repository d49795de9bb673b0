"""How frame bytes travel from the API (or ``ingest_video``) to a worker without ever persisting.

The bytes are put in Redis under a random key with a short expiry (``SET key value EX ttl``) and the
task message carries only that key. The worker takes them with ``GETDEL`` (read and delete in one
atomic step), so at most one worker ever holds them, and they are gone from Redis the moment
processing starts; a frame whose task is never run disappears by itself after the TTL. Nothing
goes into the task message, the result backend (the task ignores results), the database, a file
or a log.

Deployment note: the Redis that holds frames (``OVERSIGHT_FRAME_STORE_URL``, by default the broker)
must not persist to disk — ``save ""`` and ``appendonly no`` — so a frame that waits its few
seconds in memory is never written to an RDB/AOF file. CI's Redis runs without persistence.

Embedded default (no broker, tasks run in the calling process): the same interface over a
process-local dictionary, which never leaves memory either.

Also here: the per-camera **in-flight counter** used for load shedding (``INCR``/``DECR`` with an
expiry, so a worker killed mid-frame cannot leak a slot for longer than the TTL).
"""

from __future__ import annotations

import secrets
import threading
import time
from functools import lru_cache

from django.conf import settings

KEY_PREFIX = "oversight:frame:"
INFLIGHT_PREFIX = "oversight:frames-inflight:"


def _url() -> str:
    return getattr(settings, "OVERSIGHT_FRAME_STORE_URL", "") or settings.CELERY_BROKER_URL or ""


@lru_cache(maxsize=4)
def _redis(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


class _MemoryStore:
    """Process-local store for the embedded default (tasks run in-process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, tuple[float, bytes]] = {}
        self._counters: dict[str, int] = {}

    def put(self, key: str, data: bytes, ttl: int) -> None:
        with self._lock:
            now = time.monotonic()
            self._data = {k: v for k, v in self._data.items() if v[0] > now}
            self._data[key] = (now + ttl, data)

    def take(self, key: str) -> bytes | None:
        with self._lock:
            item = self._data.pop(key, None)
        if item is None or item[0] < time.monotonic():
            return None
        return item[1]

    def incr(self, key: str, ttl: int) -> int:
        with self._lock:
            self._counters[key] = self._counters.get(key, 0) + 1
            return self._counters[key]

    def decr(self, key: str) -> int:
        with self._lock:
            self._counters[key] = max(0, self._counters.get(key, 0) - 1)
            return self._counters[key]

    def get_count(self, key: str) -> int:
        with self._lock:
            return self._counters.get(key, 0)


_memory = _MemoryStore()


class _RedisStore:
    def __init__(self, url: str) -> None:
        self.client = _redis(url)

    def put(self, key: str, data: bytes, ttl: int) -> None:
        self.client.set(key, data, ex=ttl)

    def take(self, key: str) -> bytes | None:
        return self.client.getdel(key)

    def incr(self, key: str, ttl: int) -> int:
        pipe = self.client.pipeline()
        pipe.incr(key)
        pipe.expire(key, ttl)
        value, _ = pipe.execute()
        return int(value)

    def decr(self, key: str) -> int:
        value = int(self.client.decr(key))
        if value < 0:  # the key expired (TTL) while frames were in flight: never count below zero
            self.client.set(key, 0, ex=60)
            value = 0
        return value

    def get_count(self, key: str) -> int:
        return int(self.client.get(key) or 0)


def store():
    url = _url()
    return _RedisStore(url) if url.startswith(("redis://", "rediss://", "unix://")) else _memory


def frame_put(data: bytes) -> str:
    """Hold the bytes in memory for at most ``OVERSIGHT_FRAME_TTL_SECONDS``; return the random key."""
    key = KEY_PREFIX + secrets.token_urlsafe(18)
    store().put(key, data, settings.OVERSIGHT_FRAME_TTL_SECONDS)
    return key


def frame_take(key: str) -> bytes | None:
    """Read and delete (atomically); None when already taken or expired."""
    if not key.startswith(KEY_PREFIX):
        return None
    return store().take(key)


def frame_discard(key: str) -> None:
    frame_take(key)


def inflight_acquire(camera_id: int) -> int:
    return store().incr(f"{INFLIGHT_PREFIX}{camera_id}", settings.OVERSIGHT_FRAME_TTL_SECONDS * 4)


def inflight_release(camera_id: int) -> int:
    return store().decr(f"{INFLIGHT_PREFIX}{camera_id}")


def inflight_count(camera_id: int) -> int:
    return store().get_count(f"{INFLIGHT_PREFIX}{camera_id}")
