"""Governance's own subject-data providers (``governance.subject_access.registry``): watchlist images
and the deletion certificates of what was erased about the subject. Recognition registers its own
(alerts with crops, reviews, disclosures, outcomes; face search over templates and probes).

Every read goes through the access layer (``governance.access``): a DPO finds and compiles only
what their organisation may see, and image bytes only where their organisation may read them (the
supplying side); the operator's DPO sees the provenance and is told who holds the image.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from governance import encryption
from governance.access import (
    can_image,
    certificate_for,
    certificates_visible_to,
    image_check,
    image_for,
    images_visible_to,
)
from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import PermissionRefused, StateConflict, ValidationFailed
from governance.locks import lock_rows
from governance.subject_access.registry import (
    Candidate,
    ItemRef,
    Picture,
    StaffMention,
    SubjectDataProvider,
    SubjectItem,
    SubjectQuery,
    subject_data_provider_register,
)
from governance.watchlist.models import DeletionCertificate, ImageStatus, WatchlistImage, WatchlistImageContent
from governance.watchlist.registry import image_handlers

WATCHLIST_IMAGE = "watchlist-image"
DELETION_CERTIFICATE = "deletion-certificate"
IMAGE_TARGET = "governance.watchlistimage"


def _images_matching(actor: Any, query: SubjectQuery) -> list[tuple[WatchlistImage, str]]:
    from governance.access import images_visible_to

    found: dict[int, tuple[WatchlistImage, str]] = {}
    images = images_visible_to(actor).select_related("agreement", "supplying_organisation", "supplying_force")
    subjects = Q()
    for reference in query.subject_references:
        subjects |= Q(subject_reference__iexact=reference.strip())
    cases = Q()
    for reference in query.case_references:
        cases |= Q(custody_reference__iexact=reference.strip())
    if query.subject_references:
        for image in images.filter(subjects)[:200]:
            found.setdefault(image.pk, (image, "subject reference"))
    if query.case_references:
        for image in images.filter(cases)[:200]:
            found.setdefault(image.pk, (image, "case reference"))
    return list(found.values())


def _image_bytes(actor: Any, image: WatchlistImage) -> bytes | None:
    """The decrypted bytes where the actor's organisation may read them (in memory, never stored)."""
    if not can_image(actor, image, "bytes"):
        return None
    content = WatchlistImageContent.objects.filter(image_id=image.pk).first()
    return encryption.decrypt(content.ciphertext) if content else None


def watchlist_image_search(actor: Any, query: SubjectQuery) -> list[Candidate]:
    """By subject and case reference (face search over templates is recognition's provider)."""
    return [
        Candidate(
            ref=ItemRef(WATCHLIST_IMAGE, str(image.pk)),
            title=f"Watchlist image #{image.pk} ({image.subject_reference})",
            found_by=found_by,
            summary=f"{image.get_custody_category_display()}, case {image.custody_reference}; supplied by "
            f"{image.supplying_organisation} under {image.agreement.reference}; {image.get_status_display().lower()}",
            crop_jpeg=_image_bytes(actor, image),
        )
        for image, found_by in _images_matching(actor, query)
    ]


def _image_retention(image: WatchlistImage) -> str:
    agreement = image.agreement
    if image.status == ImageStatus.ERASED:
        return f"Erased on {timezone.localtime(image.erased_at):%d %B %Y}; only this record of its provenance is kept."
    return (
        f"Held while agreement {agreement.reference} is in force (until {agreement.ends_on:%d %B %Y} at the latest) "
        f"and while {image.supplying_force} keeps it on a watchlist; erased within "
        f"{agreement.watchlist_erasure_hours} hours after either ends."
    )


def watchlist_image_visible(actor: Any, ref: ItemRef) -> bool:
    """Through the access layer, as ``watchlist_image_compile`` reads it (issue 26)."""
    try:
        image_for(actor, ref.key)
    except Exception:  # noqa: BLE001 - NotFound (or a malformed key): not visible
        return False
    return True


def watchlist_image_supplied_by(actor: Any, ref: ItemRef) -> int | None:
    """The supplying force, without compiling (no bytes decrypted): ``SubjectDataProvider.supplied_by``."""
    if not (ref.key.isascii() and ref.key.isdigit()):
        return None
    return images_visible_to(actor).filter(pk=int(ref.key[:18])).values_list("supplying_force_id", flat=True).first()


def watchlist_image_compile(actor: Any, ref: ItemRef) -> SubjectItem | None:
    try:
        image = image_for(actor, ref.key)
    except Exception:  # noqa: BLE001 - NotFound (or a malformed key): gone or not visible
        return None
    agreement = image.agreement
    facts = [
        ("Subject reference", image.subject_reference),
        ("Why you are on the watchlist", image.get_custody_category_display()),
        ("Custody or case reference", image.custody_reference),
        ("Legal basis", f"{image.get_legal_basis_display()}; {image.get_schedule8_condition_display()}"),
        ("Photograph taken", f"{image.image_taken_on:%d %B %Y}"),
        ("Shared with the operator", f"{image.shared_on:%d %B %Y}, by {image.get_transfer_channel_display()}"),
        ("Agreement", f"{agreement.reference} v{agreement.version}: {agreement.title}"),
        ("Status", image.get_status_display()),
    ]
    if image.restricted_at:
        facts.append(("Restricted", f"Not matched since {timezone.localtime(image.restricted_at):%d %B %Y}"))
    pictures = []
    data = _image_bytes(actor, image)
    if data:
        box = tuple(int(v) for v in image.face_box) if image.face_box else None
        pictures.append(Picture(jpeg=data, caption=f"The watchlist image #{image.pk}", subject_box=box))
    elif image.status != ImageStatus.ERASED:
        facts.append(("The image itself", f"Held by {image.supplying_force}, the controller of this image."))
    staff = []
    if image.submitted_by_name:
        staff.append(
            StaffMention(
                name=image.submitted_by_name, role="Force submitter", organisation_id=image.supplying_organisation_id
            )
        )
    return SubjectItem(
        ref=ref,
        section="Watchlist entries",
        title=f"Watchlist image #{image.pk}",
        facts=facts,
        pictures=pictures,
        staff=staff,
        source=f"{image.supplying_organisation}"
        + (f" ({image.supplying_force})" if image.supplying_force_id != image.supplying_organisation_id else ""),
        recipients=[str(agreement.receiving_organisation)],
        retention=_image_retention(image),
        purposes=[agreement.purpose] if agreement.purpose else [],
        audit_targets=[(IMAGE_TARGET, str(image.pk))],
        controller_id=image.supplying_force_id,
        related=[ItemRef(DELETION_CERTIFICATE, str(pk)) for pk in _certificate_ids([image.pk])],
        recipient_organisation_ids=(agreement.receiving_organisation_id,),
        supplied_by_force_id=image.supplying_force_id,
    )


def _managed_image(actor: Any, ref: ItemRef) -> WatchlistImage:
    """The image, where the actor's organisation controls it (the supplying side); else a refusal."""
    image = image_for(actor, ref.key)
    try:
        image_check(actor, image, to="withdraw")
    except PermissionRefused:
        raise PermissionRefused(
            f"{image.supplying_force} controls this image: refer the request to its DPO.", code="not_the_controller"
        ) from None
    return image


RECTIFIABLE = ("custody_reference", "notes")


def watchlist_image_rectify(actor: Any, ref: ItemRef, field: str, value: str, reason: str) -> tuple[str, str]:
    if field not in RECTIFIABLE:
        raise ValidationFailed(f"{field!r} cannot be rectified here.", code="field_not_rectifiable")
    image = _managed_image(actor, ref)
    image = lock_rows(WatchlistImage.objects).select_related("agreement").get(pk=image.pk)
    before = str(getattr(image, field))
    limit = WatchlistImage._meta.get_field(field).max_length
    if limit and len(value) > limit:
        raise ValidationFailed(f"At most {limit} characters.", code="value_too_long")
    setattr(image, field, value)
    image.save(update_fields=[field])
    audit_record(
        action=AuditAction.ALTERATION,
        event="watchlist_image.rectified",
        actor=actor,
        target=image,
        justification=reason,
        details={"field": field, "before": before, "after": value},
    )
    return before, value


def watchlist_image_subject_erase(actor: Any, ref: ItemRef, reason: str) -> list[DeletionCertificate]:
    from governance.watchlist.services import watchlist_image_erase

    image = _managed_image(actor, ref)
    if image.status == ImageStatus.ERASED:
        raise StateConflict("This image has already been erased.", code="already_erased")
    return watchlist_image_erase(image=image, actor=actor, reason=reason, rule="subject_request")


def watchlist_image_restrict(actor: Any, ref: ItemRef, restricted: bool, reason: str) -> None:
    """Restriction stops matching while it stands (``image_matchable_q``); lifting it lets the image
    match again. Either way every worker's galleries rebuild after commit, through the handlers'
    hook for images whose matching changed under them (``images_moved``: re-key and rebuild)."""
    _set_restricted(actor, _managed_image(actor, ref), restricted, reason)


def _set_restricted(actor: Any, image: WatchlistImage, restricted: bool, reason: str) -> None:
    image = lock_rows(WatchlistImage.objects).select_related("agreement").get(pk=image.pk)
    if bool(image.restricted_at) == restricted:
        raise StateConflict(
            "The image is already restricted." if restricted else "The image is not restricted.",
            code="restriction_unchanged",
        )
    image.restricted_at = timezone.now() if restricted else None
    image.restriction_reason = reason if restricted else ""
    image.save(update_fields=["restricted_at", "restriction_reason"])
    audit_record(
        action=AuditAction.ALTERATION,
        event="watchlist_image.restricted" if restricted else "watchlist_image.restriction_lifted",
        actor=actor,
        target=image,
        justification=reason,
        details={"restricted": restricted},
    )
    for handler in image_handlers():
        handler.images_moved(image_ids=[image.pk])


def watchlist_image_object(actor: Any, ref: ItemRef, reason: str) -> str:
    """An upheld objection (UK GDPR Art. 21(1): "the controller shall no longer process the personal
    data unless ..."): the image is withdrawn from matching, as a restriction is. The operator that
    receives the image under the agreement may give effect to an objection to its own processing
    (the matching), as may the image's controller."""
    image = image_for(actor, ref.key)
    if actor.organisation_id != image.agreement.receiving_organisation_id:
        image = _managed_image(actor, ref)
    _set_restricted(actor, image, True, f"Objection upheld (UK GDPR Art. 21): {reason}")
    return "The image no longer takes part in matching."


def _certificate_ids(image_ids: list[int]) -> list[int]:
    if not image_ids:
        return []
    return list(
        DeletionCertificate.objects.filter(details__watchlist_image__in=image_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def deletion_certificate_search(actor: Any, query: SubjectQuery) -> list[Candidate]:
    images = {image.pk: image for image, _ in _images_matching(actor, query)}
    if not images:
        return []
    try:
        certificates = certificates_visible_to(actor).filter(details__watchlist_image__in=list(images))
    except PermissionRefused:
        return []
    return [
        Candidate(
            ref=ItemRef(DELETION_CERTIFICATE, str(c.pk)),
            title=f"Deletion certificate #{c.pk}: {c.subject_label}",
            found_by="subject reference",
            summary=f"Erased {timezone.localtime(c.erased_at):%d %B %Y} ({c.rule}): {c.reason}",
        )
        for c in certificates.order_by("pk")[:200]
    ]


def deletion_certificate_compile(actor: Any, ref: ItemRef) -> SubjectItem | None:
    try:
        certificate = certificate_for(actor, ref.key)
    except Exception:  # noqa: BLE001 - NotFound / PermissionRefused: not visible
        return None
    staff = []
    if certificate.erased_by_name and certificate.erased_by_name != "system":
        staff.append(StaffMention(name=certificate.erased_by_name, role="Member of staff who erased it"))
    return SubjectItem(
        ref=ref,
        section="Erasures",
        title=f"Deletion certificate #{certificate.pk}",
        facts=[
            ("What was erased", certificate.subject_label or certificate.subject_type),
            ("Erased on", f"{timezone.localtime(certificate.erased_at):%d %B %Y %H:%M}"),
            ("Why", certificate.reason),
            ("Rule", certificate.rule),
            ("Fingerprint of what was erased (SHA-256)", certificate.sha256 or "-"),
        ],
        staff=staff,
        source="Oversight's erasure record",
        retention="Kept as evidence of the erasure; it holds none of the erased data.",
        audit_targets=[("governance.deletioncertificate", str(certificate.pk))],
        controller_id=_controller_of(certificate.supplier_organisation),
    )


def _controller_of(supplier) -> int | None:
    """The force accountable for what a force or unit supplied (the unit's force)."""
    if supplier is None:
        return None
    force = supplier.force
    return force.pk if force else supplier.pk


def register() -> None:
    subject_data_provider_register(
        SubjectDataProvider(
            kind=WATCHLIST_IMAGE,
            title="Watchlist images",
            section="Watchlist entries",
            search=watchlist_image_search,
            compile=watchlist_image_compile,
            supplied_by=watchlist_image_supplied_by,
            visible=watchlist_image_visible,
            rectify=watchlist_image_rectify,
            erase=watchlist_image_subject_erase,
            restrict=watchlist_image_restrict,
            object=watchlist_image_object,
            rectifiable_fields=RECTIFIABLE,
        )
    )
    subject_data_provider_register(
        SubjectDataProvider(
            kind=DELETION_CERTIFICATE,
            title="Deletion certificates",
            section="Erasures",
            search=deletion_certificate_search,
            compile=deletion_certificate_compile,
            visible=lambda actor, ref: deletion_certificate_compile(actor, ref) is not None,
        )
    )
