"""Consultations of watchlist images (DPA 2018 s.62): the ledger's pages, an image's page and the API's
reads of its metadata, through ``governance.audit.consultation``. (The bytes are audited by their
service, ``watchlist_image_read_bytes``, with their own justification.)"""

from __future__ import annotations

from typing import Any

from governance.access import image_for, images_visible_to
from governance.audit.consultation import (
    ConsultedRecord,
    audit_consultation,
    audit_consultation_batch,
    consulted_record_register,
    subject_lookup_register,
)
from governance.watchlist.models import WatchlistImage

IMAGE_SHOWN = "the image's provenance, subject reference, status and history (no image bytes)"
OWN_IMAGES = "=Managing our force's own watchlist images"


def image_purpose_kind(request: Any, **kwargs: Any) -> str:
    """A force reading its own images: the purpose follows from the task. Anyone else opening a
    force's image (the operator's DPO, the regulator) says why, every time."""
    organisation = getattr(request.user, "organisation", None)
    if organisation is not None and organisation.is_police:
        return OWN_IMAGES
    return "other_party_image"


def ledger_purpose_kind(request: Any, **kwargs: Any) -> str:
    """A force listing its own images (web or API): the purpose follows from the task."""
    organisation = getattr(request.user, "organisation", None)
    if organisation is not None and organisation.is_police:
        return OWN_IMAGES
    return "watchlist"


def bulk_purpose_kind(request: Any, **kwargs: Any) -> str:
    """A bulk upload's results are shown only to submitters of the organisation that uploaded them
    (``selectors.bulk_upload_get``): the purpose follows from the task, whoever asks (the others are refused after)."""
    return "=Checking the results of our force's own bulk upload"


def image_consulted(request: Any, image: WatchlistImage, *, event: str = "watchlist_image.viewed") -> None:
    audit_consultation(
        actor=request.user,
        target=image,
        event=event,
        justification=request.consultation_purpose,
        shown=IMAGE_SHOWN,
        details={"subject_reference": image.subject_reference},
    )


def images_listed(request: Any, images: list[WatchlistImage], *, event: str) -> None:
    ids = [image.pk for image in images]
    rows = WatchlistImage.objects.filter(pk__in=ids).values_list(
        "supplying_organisation_id", "agreement__receiving_organisation_id"
    )
    audit_consultation_batch(
        actor=request.user,
        target_type="governance.watchlistimage",
        records=ids,
        event=event,
        justification=request.consultation_purpose,
        shown="each image's subject reference, provenance and status",
        label="Watchlist images",
        organisations={pk for row in rows for pk in row if pk},
        subject_references=[image.subject_reference for image in images],
    )


consulted_record_register(ConsultedRecord("watchlist-image", "governance.watchlistimage", "watchlist image", image_for))
subject_lookup_register(lambda user, reference: images_visible_to(user).filter(subject_reference=reference).exists())
