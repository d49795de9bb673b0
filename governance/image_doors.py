"""How many images one organisation may have decoded at once, across the web tier (issue 26).

Decoding an upload (the watchlist's check and re-encode, the subject-access photo search) costs CPU and memory in
the process that answers; without a limit a few requests from one force can hold every web worker for every
organisation. ``image_door(actor)`` counts the organisation's decodes in flight in the shared cache (Redis in
production, so every web process sees the same count) and refuses one over ``OVERSIGHT_IMAGE_DOOR_CONCURRENCY``
with a coded 429 and ``Retry-After`` (``ImageDoorBusy``); other organisations are not affected. The count has a
lease (``OVERSIGHT_IMAGE_DOOR_LEASE_SECONDS``): a process killed while decoding cannot hold its slot for ever.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.cache import cache

from governance.errors import ApplicationError


class ImageDoorBusy(ApplicationError):
    status_code = 429
    default_code = "image_door_busy"
    retry_after_seconds = 5


def _key(organisation_id: int | None) -> str:
    return f"oversight:image-door:{organisation_id or 0}"


def image_door_in_flight(organisation_id: int | None) -> int:
    return int(cache.get(_key(organisation_id)) or 0)


@contextmanager
def image_door(actor: Any) -> Iterator[None]:
    """Hold one of the actor's organisation's decode slots for the ``with`` block, or raise ``ImageDoorBusy``."""
    key = _key(getattr(actor, "organisation_id", None))
    lease = settings.OVERSIGHT_IMAGE_DOOR_LEASE_SECONDS
    cache.add(key, 0, timeout=lease)
    try:
        held = cache.incr(key)
    except ValueError:  # the lease ran out between add and incr
        cache.set(key, 1, timeout=lease)
        held = 1
    try:
        limit = settings.OVERSIGHT_IMAGE_DOOR_CONCURRENCY
        if held > limit:
            raise ImageDoorBusy(
                f"Your organisation already has {limit} image{'s' if limit != 1 else ''} being checked; "
                f"try again in {ImageDoorBusy.retry_after_seconds} seconds.",
                details={"limit": limit, "retry_after_seconds": ImageDoorBusy.retry_after_seconds},
            )
        yield
    finally:
        try:
            if cache.decr(key) < 0:
                cache.set(key, 0, timeout=lease)
        except ValueError:  # the lease ran out while decoding: nothing left to give back
            pass
