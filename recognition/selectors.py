"""Reads of biometric data for matching: galleries of face templates per set of agreements.

Each process keeps the galleries it has built, keyed by the set of agreement ids, together with the
*gallery version* it saw in the shared cache (Django's cache: Redis when scaled out) before reading
the templates. Every enrolment and withdrawal sets a new version after its commit, so the next
``gallery_for_agreements`` call in *any* worker sees a different version and rebuilds from the
database: a withdrawn template stops matching everywhere at once. The version is a random token,
not a counter, so a cache eviction can never make an old version look current. In the process that
made the change, cached galleries are also updated in place, so even a gallery object a caller
still holds stops returning a withdrawn id.

Ids in a gallery are watchlist image ids (what an alert refers to).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable

import numpy as np
from django.core.cache import cache

from recognition.models import FaceTemplate

GALLERY_VERSION_KEY = "recognition:gallery-version"

_lock = threading.Lock()
# Keyed by (agreement ids, watchlist review id or None): a live deployment's gallery holds only the
# images of the watchlist review in force (the watchlist reviewed is the watchlist matched).
_galleries: dict[tuple[frozenset[int], int | None], tuple[str, object]] = {}


def gallery_version() -> str:
    version = cache.get(GALLERY_VERSION_KEY)
    if version is None:
        cache.add(GALLERY_VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(GALLERY_VERSION_KEY) or "unversioned"
    return version


def gallery_version_bump() -> None:
    cache.set(GALLERY_VERSION_KEY, uuid.uuid4().hex, timeout=None)


def _build(agreement_ids: frozenset[int], review_id: int | None):
    from recognition.deployments.models import WatchlistReview
    from recognition.engine import Gallery
    from recognition.enrolment import template_vector

    # The image's current agreement (an approved amendment carries images over to its version).
    templates = FaceTemplate.objects.filter(image__agreement_id__in=agreement_ids, image__status="enrolled")
    if review_id is not None:
        reviewed = WatchlistReview.objects.filter(pk=review_id).values_list("image_ids", flat=True).first() or []
        templates = templates.filter(image_id__in=reviewed)
    templates = list(templates.only("image_id", "ciphertext").order_by("image_id"))
    gallery = Gallery(scope=",".join(str(i) for i in sorted(agreement_ids)), capacity=len(templates))
    if templates:
        gallery.add(ids=[t.image_id for t in templates], vectors=np.stack([template_vector(t) for t in templates]))
    return gallery


def gallery_for_agreements(agreement_ids: Iterable[int], *, review_id: int | None = None):
    """The gallery of enrolled templates under these agreements (a ``recognition.engine.Gallery``),
    narrowed to the images of watchlist review ``review_id`` when given (live matching).

    Cheap when nothing changed (one cache read); rebuilt after any enrolment or withdrawal anywhere.
    Callers (live matching) call it for every batch of probes rather than holding the object.
    """
    key = (frozenset(int(i) for i in agreement_ids), review_id)
    version = gallery_version()  # read before the templates: a change after this forces a rebuild next time
    with _lock:
        cached = _galleries.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
    gallery = _build(*key)
    with _lock:
        _galleries[key] = (version, gallery)
    return gallery


def gallery_local_apply(*, add: dict[int, list[tuple[int, np.ndarray]]], remove: list[int]) -> None:
    """Apply a committed change to this process's cached galleries in place. A new image joins
    only galleries not bound to a watchlist review: a live deployment's gallery gains images only
    through a new review."""
    with _lock:
        galleries = list(_galleries.items())
    for (agreement_ids, review_id), (_, gallery) in galleries:
        if remove:
            gallery.remove(ids=remove)
        if review_id is not None:
            continue
        for agreement_id, items in add.items():
            if agreement_id in agreement_ids and items:
                gallery.add(ids=[i for i, _ in items], vectors=np.stack([v for _, v in items]))


def gallery_cache_clear() -> None:
    with _lock:
        _galleries.clear()
