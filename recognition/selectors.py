"""Reads of biometric data for matching: the live backend, face templates, and galleries of them per set of
agreements.

A gallery is built here from the database (``gallery_for_agreements``) and kept in this process's gallery cache
(``recognition.gallery_cache``), which every writer tells to rebuild after its change commits. Ids in a gallery are
watchlist image ids (what an alert refers to).

Backends: a gallery holds the templates of one backend (detector + embedder + weights) only, the
one whose engine makes the probes searched against it; the live backend is the last audited
switch-over (``ActiveBackend``, ``recognition.switchover``), else the one in settings. The live
choice is cached briefly in the shared cache and set there by the switch itself, so every worker
moves to the new backend on its next frame, with its galleries of the new backend's templates.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from django.core.cache import cache

from governance import encryption
from recognition.gallery_cache import gallery_cached
from recognition.models import ActiveBackend, FaceTemplate

ACTIVE_BACKEND_KEY = "recognition:active-backend"
# How long a worker may act on a cached live choice if the switch's own cache write was lost (eviction, a per-process
# cache): the switch sets the key after commit, so normally the change is seen on the next frame.
ACTIVE_BACKEND_CACHE_SECONDS = 30


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


def template_vector(template: FaceTemplate) -> np.ndarray:
    """The template's embedding, decrypted (biometric: never logged)."""
    return np.frombuffer(encryption.decrypt(template.ciphertext), dtype=np.float32).reshape(-1)


def _build(backend: str, agreement_ids: frozenset[int], review_id: int | None):
    # The image's current agreement (an approved amendment carries images over to its version).
    from governance.watchlist.selectors import image_matchable_q
    from recognition.deployments.models import WatchlistReview
    from recognition.deployments.watchlists import deployment_matched_image_ids
    from recognition.engine import Gallery

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
    return gallery_cached(key, lambda: _build(*key))
