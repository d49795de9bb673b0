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

Backends: a gallery holds the templates of one backend (detector + embedder + weights) only, the
one whose engine makes the probes searched against it; the live backend is the last audited
switch-over (``ActiveBackend``, ``recognition.switchover``), else the one in settings. The live
choice is cached briefly in the shared cache and set there by the switch itself, so every worker
moves to the new backend on its next frame, with its galleries of the new backend's templates.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable

import numpy as np
from django.core.cache import cache

from recognition.models import ActiveBackend, FaceTemplate

GALLERY_VERSION_KEY = "recognition:gallery-version"
ACTIVE_BACKEND_KEY = "recognition:active-backend"
# How long a worker may act on a cached live choice if the switch's own cache write was lost (eviction, a per-process
# cache): the switch sets the key after commit, so normally the change is seen on the next frame.
ACTIVE_BACKEND_CACHE_SECONDS = 30

_lock = threading.Lock()
# Keyed by (backend, agreement ids, watchlist review id or None): one backend per gallery, and a live
# deployment's gallery holds only the images of the watchlist review in force (the watchlist reviewed
# is the watchlist matched).
_galleries: dict[tuple[str, frozenset[int], int | None], tuple[str, object]] = {}


def live_backend_choice() -> str | None:
    """The live ``"detector+embedder"`` after a switch-over, or None before any (settings.RECOGNITION decides)."""
    value = cache.get(ACTIVE_BACKEND_KEY)
    if value is None:
        value = ActiveBackend.objects.filter(pk=1).values_list("choice", flat=True).first() or ""
        cache.set(ACTIVE_BACKEND_KEY, value, timeout=ACTIVE_BACKEND_CACHE_SECONDS)
    return value or None


def live_backend() -> str:
    """``FaceEngine.backend`` of the live templates (computed without loading a model)."""
    from recognition.engine.engine import backend_id, config_for

    return backend_id(config_for(live_backend_choice()))


def live_engine():
    """The engine of the live backend: what enrolment, live matching and search must use (built once per process)."""
    from recognition.engine import get_engine

    return get_engine(live_backend_choice())


def gallery_version() -> str:
    version = cache.get(GALLERY_VERSION_KEY)
    if version is None:
        cache.add(GALLERY_VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(GALLERY_VERSION_KEY) or "unversioned"
    return version


def gallery_version_bump() -> None:
    cache.set(GALLERY_VERSION_KEY, uuid.uuid4().hex, timeout=None)


def _build(backend: str, agreement_ids: frozenset[int], review_id: int | None):
    # The image's current agreement (an approved amendment carries images over to its version).
    from governance.watchlist.selectors import image_matchable_q
    from recognition.deployments.models import WatchlistReview
    from recognition.deployments.watchlists import deployment_matched_image_ids
    from recognition.engine import Gallery
    from recognition.enrolment import template_vector

    templates = FaceTemplate.objects.filter(
        image_matchable_q("image__"), backend=backend, image__agreement_id__in=agreement_ids
    )
    if review_id is not None:
        # The deployment's watchlist as each supplying force reviewed it (recognition.deployments.watchlists).
        deployment_id = WatchlistReview.objects.filter(pk=review_id).values_list("deployment_id", flat=True).first()
        reviewed = deployment_matched_image_ids(deployment_id) if deployment_id else []
        templates = templates.filter(image_id__in=reviewed)
    templates = list(templates.only("image_id", "ciphertext").order_by("image_id"))
    vectors = [template_vector(t) for t in templates]
    dimension = len(vectors[0]) if vectors else _dimension_of(backend)
    gallery = Gallery(
        scope=",".join(str(i) for i in sorted(agreement_ids)),
        capacity=len(templates),
        dimension=dimension,
        backend=backend,
    )
    if templates:
        gallery.add(ids=[t.image_id for t in templates], vectors=np.stack(vectors))
    return gallery


def _dimension_of(backend: str) -> int:
    return 128 if "+sface-" in backend else 512


def gallery_for_agreements(agreement_ids: Iterable[int], *, backend: str | None = None, review_id: int | None = None):
    """The gallery of enrolled templates of one backend under these agreements (a ``recognition.engine.Gallery``),
    narrowed to the images of watchlist review ``review_id`` when given (live matching).

    ``backend``: the ``FaceEngine.backend`` of the engine that made the probes (None = the live backend). Cheap when
    nothing changed (one cache read); rebuilt after any enrolment, withdrawal or switch-over anywhere. Callers (live
    matching) call it for every batch of probes rather than holding the object.
    """
    backend = backend or live_backend()
    key = (backend, frozenset(int(i) for i in agreement_ids), review_id)
    version = gallery_version()  # read before the templates: a change after this forces a rebuild next time
    with _lock:
        cached = _galleries.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
    gallery = _build(*key)
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


def galleries_invalidate(*, remove: Iterable[int] = ()) -> None:
    """Every worker's galleries stop matching these images (or rebuild, when ``remove`` is empty): drop them
    from this process's galleries in place and set a new gallery version, so every other process rebuilds from
    the database on its next search. Call after the change commits (``transaction.on_commit``)."""
    ids = [int(i) for i in remove]
    if ids:
        gallery_local_apply(add={}, remove=ids)
    gallery_version_bump()
