"""Recognition's part in a watchlist image's life, registered with governance's image handlers
(``governance.watchlist.registry``): an image received is queued for enrolment after commit
(``recognition.tasks.enrol_watchlist_image`` → ``recognition.enrolment``); an image erased takes its face templates
with it (every backend's), and every worker's galleries stop matching it after commit; images an approved amendment
carried over take their templates along.
"""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.db.models import OuterRef, Subquery

from governance.locks import lock_rows
from governance.watchlist.models import WatchlistImage
from governance.watchlist.registry import ErasedItem, register_image_handler
from recognition.gallery_cache import galleries_after_commit, gallery_cache_clear, gallery_version_bump
from recognition.models import FaceTemplate
from recognition.tasks import enrol_watchlist_image


class TemplateHandler:
    """Recognition's part in the watchlist image's life (see ``governance.watchlist.registry``)."""

    name = "recognition.face_template"

    def image_received(self, image: WatchlistImage) -> None:
        image_id = image.pk

        def enqueue() -> None:
            enrol_watchlist_image.delay(image_id)

        # robust: a broker hiccup (or, in the embedded default, an engine error while the task runs
        # in-process) must not turn the already-committed upload into a 500. The image stays
        # ``received`` and ``recognition.tasks.enrol_pending_images`` picks it up again.
        transaction.on_commit(enqueue, robust=True)

    def image_erasing(self, image: WatchlistImage, *, actor, reason: str) -> list[ErasedItem]:
        # Every template of the image, whichever backend made it (the live one and any kept for switching back).
        templates = list(lock_rows(FaceTemplate.objects).filter(image_id=image.pk).order_by("pk"))
        if not templates:
            return []
        erased = [
            ErasedItem(
                subject_type="recognition.facetemplate",
                subject_id=str(t.pk),
                sha256=hashlib.sha256(bytes(t.ciphertext)).hexdigest(),
                label=f"Face template of watchlist image #{image.pk} ({t.backend})",
            )
            for t in templates
        ]
        FaceTemplate.objects.filter(pk__in=[t.pk for t in templates]).delete()
        # Stop matching at once: this process's galleries drop the id and every other worker
        # rebuilds on its next search (version bump), right after commit.
        transaction.on_commit(galleries_after_commit(remove=[image.pk]))
        return erased

    def images_moved(self, *, image_ids: list[int]) -> None:
        """An approved amendment carried these images to its version: their templates follow, and every
        worker's galleries rebuild (they are keyed by agreement) after commit."""
        if not image_ids:
            return
        FaceTemplate.objects.filter(image_id__in=image_ids).update(
            agreement_id=Subquery(WatchlistImage.objects.filter(pk=OuterRef("image_id")).values("agreement_id")[:1])
        )

        def rebuild() -> None:
            gallery_version_bump()
            gallery_cache_clear()

        transaction.on_commit(rebuild)


register_image_handler(TemplateHandler())
