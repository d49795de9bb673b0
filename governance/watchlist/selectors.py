"""Reads of the watchlist ledger, always scoped to what the user may see.

A force sees its own images and its units'; a unit its own; the operator's staff and regulators see
the provenance metadata of images under agreements they are party to / oversee. Object permissions
only (``accept_global_perms=False``): a role's model-level permission never widens the set.
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from governance.access import can_upload_watchlist_image, image_for, images_visible_to, record_history
from governance.audit.models import AuditEvent
from governance.errors import NotFound, PermissionRefused
from governance.organisations.models import User
from governance.watchlist.models import DeletionCertificate, ImageStatus, WatchlistBulkUpload, WatchlistImage


def image_matchable_q(prefix: str = "") -> Q:
    """The one rule for whether an image can be matched at all: enrolled, and not restricted by a
    subject's request (UK GDPR Art. 18 / DPA 2018 s.47(2)). ``prefix`` for a related lookup
    (``"image__"`` from a face template): every gallery builds from this same rule."""
    return Q(**{f"{prefix}status": ImageStatus.ENROLLED, f"{prefix}restricted_at__isnull": True})


def watchlist_images_matchable(agreements) -> QuerySet[WatchlistImage]:
    """Which images a deployment may match: the enrolled, unrestricted images held under the version
    of each of its agreements that is sharing now. (Live matching narrows this further to the images
    of the watchlist review in force: ``recognition.deployments.services.planning.matched_watchlist``.)"""
    return WatchlistImage.objects.filter(image_matchable_q(), agreement__in=agreements.sharing_versions())


def image_list(
    *,
    user: User,
    agreement_id: int | None = None,
    organisation: str = "",
    status: str = "",
    search: str = "",
) -> QuerySet[WatchlistImage]:
    images = images_visible_to(user)
    if agreement_id:
        images = images.filter(agreement_id=agreement_id)
    if organisation:
        images = images.filter(
            Q(supplying_organisation__short_name=organisation) | Q(supplying_force__short_name=organisation)
        )
    if status:
        images = images.filter(status=status)
    if search:
        images = images.filter(
            Q(subject_reference__icontains=search) | Q(custody_reference__icontains=search) | Q(sha256__iexact=search)
        )
    return images.order_by("-received_at", "-pk")


def image_get(*, user: User, pk) -> WatchlistImage:
    return image_for(user, pk)


def image_history(*, image: WatchlistImage) -> QuerySet[AuditEvent]:
    """The image's life straight from the audit log: collection, consultations, enrolment, erasure."""
    return record_history("governance.watchlistimage", image)


def image_certificates(*, image: WatchlistImage) -> QuerySet[DeletionCertificate]:
    return DeletionCertificate.objects.filter(details__watchlist_image=image.pk).order_by("erased_at", "pk")


def ledger_summary(*, user: User) -> list[dict]:
    """Counts per agreement and status for the images the user may see (the ledger's overview)."""
    rows = (
        images_visible_to(user)
        .order_by()
        .values("agreement_id", "agreement__reference", "agreement__title", "agreement__max_images", "status")
        .annotate(n=Count("pk"))
    )
    summary: dict[int, dict] = {}
    for row in rows:
        entry = summary.setdefault(
            row["agreement_id"],
            {
                "agreement_id": row["agreement_id"],
                "reference": row["agreement__reference"],
                "title": row["agreement__title"],
                "max_images": row["agreement__max_images"],
                "counts": {s: 0 for s in ImageStatus.values},
            },
        )
        entry["counts"][row["status"]] = row["n"]
    for entry in summary.values():
        c = entry["counts"]
        entry["live"] = c["received"] + c["enrolled"] + c["rejected"]
    return sorted(summary.values(), key=lambda e: e["reference"])


def bulk_upload_get(*, user: User, pk) -> WatchlistBulkUpload:
    """The one access function for a bulk upload's results: a role that uploads (``add_watchlistimage``; any other
    role is ``PermissionRefused``, whatever the record), of the uploader's organisation (its images are the
    supplier's). Missing and another organisation's are the same ``NotFound``."""
    if not can_upload_watchlist_image(user):
        raise PermissionRefused("Your role cannot upload watchlist images.", code="role_cannot_upload")
    text = str(pk)
    bulk = (
        WatchlistBulkUpload.objects.filter(pk=int(text), organisation_id=user.organisation_id).first()
        if text.isascii() and text.isdigit() and int(text) < 2**62
        else None
    )
    if bulk is None:
        raise NotFound("No such bulk upload.", code="bulk_upload_not_found")
    return bulk


def bulk_upload_items(*, user: User, bulk: WatchlistBulkUpload) -> list:
    """The bulk's results in file order, each accepted image's current state read live (``checking``, ``received``,
    ``enrolled``, ``rejected`` with its code...) and only where the user may still see the image."""
    items = list(bulk.items.order_by("index"))
    visible = {
        image.pk: image for image in images_visible_to(user).filter(pk__in=[i.image_id for i in items if i.image_id])
    }
    for item in items:
        item.visible_image = visible.get(item.image_id)
    return items
