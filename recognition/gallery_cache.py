"""Each process's cache of built galleries, and the shared *gallery version* that tells every process when to
rebuild. Writers (enrolment, withdrawal, a watchlist review's change, go-live, erasure) call the functions here after
their change commits; the template reads that build a gallery are ``recognition.selectors``, which keeps its
galleries here.

Galleries are kept per process, keyed by (backend, agreement ids, watchlist review id or None), together with the
gallery version (in Django's cache: Redis when scaled out) seen *before* the templates were read. Every enrolment and
withdrawal sets a new version after its commit, so the next lookup in *any* worker sees a different version and
rebuilds from the database: a withdrawn template stops matching everywhere at once. The version is a random token,
not a counter, so a cache eviction can never make an old version look current. In the process that made the change,
cached galleries are also updated in place (``gallery_local_apply``), so even a gallery object a caller still holds
stops returning a withdrawn id.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable

import numpy as np
from django.core.cache import cache

GALLERY_VERSION_KEY = "recognition:gallery-version"

GalleryKey = tuple[str, frozenset[int], int | None]

_lock = threading.Lock()
# Keyed by (backend, agreement ids, watchlist review id or None): one backend per gallery, and a live
# deployment's gallery holds only the images of the watchlist review in force (the watchlist reviewed
# is the watchlist matched).
_galleries: dict[GalleryKey, tuple[str, object]] = {}


def gallery_version() -> str:
    version = cache.get(GALLERY_VERSION_KEY)
    if version is None:
        cache.add(GALLERY_VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(GALLERY_VERSION_KEY) or "unversioned"
    return version


def gallery_version_bump() -> None:
    cache.set(GALLERY_VERSION_KEY, uuid.uuid4().hex, timeout=None)


def gallery_cached(key: GalleryKey, build: Callable[[], object]):
    """This process's gallery for ``key`` if it was built at the current gallery version, else ``build()``'s, kept.
    The version is read before ``build`` reads the templates: a change after this forces a rebuild next time."""
    version = gallery_version()
    with _lock:
        cached = _galleries.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
    gallery = build()
    with _lock:
        _galleries[key] = (version, gallery)
    return gallery


def gallery_local_apply(*, add: dict[int, list[tuple[int, np.ndarray]]], remove: list[int], backend: str = "") -> None:
    """Apply a committed change to this process's cached galleries in place: additions only to
    ``backend``'s galleries, and never to one bound to a watchlist review (a live deployment's
    gallery gains images only through a new review)."""
    with _lock:
        galleries = list(_galleries.items())
    for (gallery_backend, agreements, review_id), (_, gallery) in galleries:
        if remove:
            gallery.remove(ids=remove)
        if gallery_backend != backend or review_id is not None:
            continue
        for agreement_id, items in add.items():
            if agreement_id in agreements and items:
                gallery.add(ids=[i for i, _ in items], vectors=np.stack([v for _, v in items]))


def gallery_cache_clear() -> None:
    with _lock:
        _galleries.clear()


def galleries_after_commit(
    *, add: dict[int, list[tuple[int, np.ndarray]]] | None = None, remove: list[int] | None = None, backend: str = ""
) -> Callable[[], None]:
    """What an enrolment or a withdrawal runs after its commit (``transaction.on_commit``): this process's galleries
    take the change in place (``gallery_local_apply``) and every other process rebuilds (a new gallery version)."""

    def notify() -> None:
        gallery_local_apply(add=add or {}, remove=remove or [], backend=backend)
        gallery_version_bump()

    return notify


def galleries_invalidate(*, remove: Iterable[int] = ()) -> None:
    """Every worker's galleries stop matching these images (or rebuild, when ``remove`` is empty): drop them
    from this process's galleries in place and set a new gallery version, so every other process rebuilds from
    the database on its next search. Call after the change commits (``transaction.on_commit``)."""
    ids = [int(i) for i in remove]
    if ids:
        gallery_local_apply(add={}, remove=ids)
    gallery_version_bump()
