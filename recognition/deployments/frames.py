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

A worker *claims* a frame rather than merely taking it: one atomic ``SET key TAKEN XX GET`` hands it
the bytes and leaves a marker in their place (no bytes, a longer expiry). A redelivered task (its
worker was killed mid-frame) then finds the marker and knows the frame was lost with a worker, not
expired; a frame the door withdrew (the broker refused the task) carries a marker that says so.

Also here: the per-camera **in-flight count** used for load shedding. Each waiting frame holds a
slot named by its frame key, with its own expiry (a Redis sorted set scored by expiry time): a
worker killed mid-frame leaks its slot only until that slot expires, even while the camera keeps
posting (one counter whose expiry every new frame refreshed never came down again).
"""

from __future__ import annotations

import secrets
import threading
import time
from functools import lru_cache
from typing import NamedTuple

from django.conf import settings

KEY_PREFIX = "oversight:frame:"
INFLIGHT_PREFIX = "oversight:frames-inflight:"
# Markers left in place of the bytes (a frame is JPEG or PNG: it never starts with these).
TAKEN = b"oversight:taken"
WITHDRAWN = b"oversight:withdrawn"
# How long a marker outlives its bytes: longer than any redelivery (a Redis broker's visibility
# timeout, README) can take, so a redelivered task still reads why its frame is gone.
MARKER_SECONDS = 3 * 3600


class Claim(NamedTuple):
    """What a worker found under a frame key: the bytes, or why there are none."""

    data: bytes | None
    state: str  # "bytes", "taken" (an earlier try claimed them), "withdrawn", "missing"


def _claim_of(previous: bytes | None) -> Claim:
    if previous is None:
        return Claim(None, "missing")
    if previous == TAKEN:
        return Claim(None, "taken")
    if previous == WITHDRAWN:
        return Claim(None, "withdrawn")
    return Claim(previous, "bytes")


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
        self._counters: dict[str, dict[str, float]] = {}

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

    def swap(self, key: str, marker: bytes, ttl: int) -> bytes | None:
        """Replace a live value by ``marker`` (kept ``ttl`` seconds); return the old value."""
        with self._lock:
            item = self._data.get(key)
            if item is None or item[0] < time.monotonic():
                self._data.pop(key, None)
                return None
            self._data[key] = (time.monotonic() + ttl, marker)
            return item[1]

    def slot_acquire(self, key: str, slot: str, ttl: int) -> int:
        with self._lock:
            now = time.time()
            slots = {k: v for k, v in self._counters.get(key, {}).items() if v > now}
            slots[slot] = now + ttl
            self._counters[key] = slots
            return len(slots)

    def slot_release(self, key: str, slot: str) -> None:
        with self._lock:
            self._counters.get(key, {}).pop(slot, None)

    def done(self, key: str, slots: str) -> None:
        with self._lock:
            self._data.pop(key, None)
            self._counters.get(slots, {}).pop(key, None)

    def slot_count(self, key: str) -> int:
        with self._lock:
            now = time.time()
            return sum(1 for expiry in self._counters.get(key, {}).values() if expiry > now)


_memory = _MemoryStore()


class _RedisStore:
    def __init__(self, url: str) -> None:
        self.client = _redis(url)

    def put(self, key: str, data: bytes, ttl: int) -> None:
        self.client.set(key, data, ex=ttl)

    def take(self, key: str) -> bytes | None:
        return self.client.getdel(key)

    def swap(self, key: str, marker: bytes, ttl: int) -> bytes | None:
        # SET ... XX GET EX: atomic, only if the key exists, returns the value it replaced.
        return self.client.set(key, marker, xx=True, get=True, ex=ttl)

    def slot_acquire(self, key: str, slot: str, ttl: int) -> int:
        now = time.time()
        pipe = self.client.pipeline()  # MULTI/EXEC: the count is of this moment's live slots
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.zadd(key, {slot: now + ttl})
        pipe.zcard(key)
        pipe.expire(key, ttl)
        _, _, count, _ = pipe.execute()
        return int(count)

    def slot_release(self, key: str, slot: str) -> None:
        self.client.zrem(key, slot)

    def done(self, key: str, slots: str) -> None:
        pipe = self.client.pipeline(transaction=False)
        pipe.delete(key)
        pipe.zrem(slots, key)
        pipe.execute()

    def slot_count(self, key: str) -> int:
        return int(self.client.zcount(key, time.time(), "+inf"))


def store():
    url = _url()
    return _RedisStore(url) if url.startswith(("redis://", "rediss://", "unix://")) else _memory


def frame_key_new() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(18)


def frame_put(data: bytes, key: str | None = None) -> str:
    """Hold the bytes in memory for at most ``OVERSIGHT_FRAME_TTL_SECONDS``; return the random key."""
    key = key or frame_key_new()
    store().put(key, data, settings.OVERSIGHT_FRAME_TTL_SECONDS)
    return key


def frame_take(key: str) -> bytes | None:
    """Read and delete (atomically); None when already taken or expired."""
    if not key.startswith(KEY_PREFIX):
        return None
    return store().take(key)


def frame_discard(key: str) -> None:
    frame_take(key)


def frame_claim(key: str) -> Claim:
    """A worker's read: the bytes (deleted from the store in the same step, a ``TAKEN`` marker left
    in their place), or why there are none."""
    if not key.startswith(KEY_PREFIX):
        return Claim(None, "missing")
    return _claim_of(store().swap(key, TAKEN, MARKER_SECONDS))


def frame_done(camera_id: int, key: str) -> None:
    """A worker is finished with the frame (its outcome counted, or handed to a retry): drop the
    claim marker and the in-flight slot. Only a worker that died before this leaves a marker."""
    store().done(key, f"{INFLIGHT_PREFIX}{camera_id}")


def frame_withdraw(key: str) -> None:
    """The door could not queue the frame's task: delete the bytes and mark the key, so that a task
    published after all (a broker error can be ambiguous) counts nothing."""
    store().swap(key, WITHDRAWN, MARKER_SECONDS)


def _slot_ttl() -> int:
    # A frame older than FRAME_MAX_AGE is shed by the worker anyway, and its bytes are gone after
    # FRAME_TTL; a slot outliving both can only be a leak.
    return max(settings.OVERSIGHT_FRAME_TTL_SECONDS, settings.OVERSIGHT_FRAME_MAX_AGE_SECONDS) * 2


def inflight_acquire(camera_id: int, slot: str) -> int:
    """Take a slot for one frame (named by its frame key); return how many this camera now holds."""
    return store().slot_acquire(f"{INFLIGHT_PREFIX}{camera_id}", slot, _slot_ttl())


def inflight_release(camera_id: int, slot: str) -> None:
    store().slot_release(f"{INFLIGHT_PREFIX}{camera_id}", slot)


def inflight_count(camera_id: int) -> int:
    return store().slot_count(f"{INFLIGHT_PREFIX}{camera_id}")


def frame_store_ready() -> bool | None:
    """``/health/ready/`` "frame_store": the Redis holding frame bytes answers (None: the embedded default's
    process-local store, nothing to reach)."""
    url = _url()
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        return bool(client.ping())
    finally:
        client.close()
