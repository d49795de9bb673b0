"""Writes to the watchlist ledger: upload, consultation of bytes, enrolment outcome, withdrawal, erasure.

Every entry point opens its own ``transaction.atomic()`` (nested calls become savepoints, so a bulk
upload or the scenario loader can wrap several), checks who may act, validates, changes state and
records its DPA 2018 s.62 event in that same transaction:

- upload → ``collection`` (at receipt: the request runs only the cheap checks and keeps the bytes as sent, encrypted,
  awaiting the worker);
- the worker's check (``watchlist_image_process_upload``: full decode, metadata-free re-encode, canonical-pixels
  duplicate) → ``alteration`` (``watchlist_image.cleaned``: the bytes as sent, EXIF and all, are erased and replaced by
  the clean ones), or a rejection with the decode's code → ``alteration`` (``watchlist_image.rejected``);
- reading the image bytes → ``consultation``, with the reader's justification (required);
- enrolment (a template derived from the image and added to galleries) → ``combination``;
  a rejection at enrolment → ``alteration``;
- withdrawal → ``alteration``, then erasure of the bytes and every derived template → ``erasure``,
  with a deletion certificate per erased item.

Who may upload: a user whose role carries ``add_watchlistimage`` (force submitters) and whose
organisation *supplies* under the agreement: the supplying organisation itself, or a unit of it (a
force-level agreement covers the force's units). A force may not upload under an agreement made by
one of its units, and a unit not under a sibling unit's: the agreement names who supplies.

Never put image bytes, templates or anything derived from them into audit details or logs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from guardian.shortcuts import assign_perm

from governance import encryption
from governance.access import agreement_for, can_upload_watchlist_image, image_check
from governance.agreements.models import Agreement, CustodyCategory, Schedule8Condition, Section35Basis
from governance.agreements.rules import APP_CATEGORY_RULE, non_app_categories
from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import ApplicationError, NotFound, PermissionRefused, StateConflict, ValidationFailed
from governance.image_doors import image_door
from governance.inputs import meaningful_justification
from governance.locks import lock_rows
from governance.organisations.models import Organisation, User
from governance.organisations.roles import REGULATORS_GROUP_NAME
from governance.watchlist.errors import (
    AgreementRefusesImage,
    CategoryNotPermitted,
    DuplicateImage,
    ImageGone,
    JustificationRequired,
    NotAParty,
    ProvenanceInvalid,
)
from governance.watchlist.models import (
    DUPLICATE_BLOCKING_STATUSES,
    LIVE_STATUSES,
    DeletionCertificate,
    ImageStatus,
    RejectionReason,
    TransferChannel,
    WatchlistBulkItem,
    WatchlistBulkUpload,
    WatchlistImage,
    WatchlistImageContent,
    WatchlistImageUpload,
)
from governance.watchlist.registry import ErasedItem, image_handlers
from governance.watchlist.validation import CleanImage, ImageFacts, image_clean, image_clean_stored, image_precheck

MIN_JUSTIFICATION_CHARS = 10
PROVENANCE_REQUIRED = ("subject_reference", "custody_category", "custody_reference", "image_taken_on")


@dataclass(frozen=True)
class Provenance:
    """What a force states about an image. Validated by ``provenance_clean``."""

    subject_reference: str
    custody_category: str
    custody_reference: str
    image_taken_on: date
    shared_on: date | None = None
    legal_basis: str = Section35Basis.STRICTLY_NECESSARY
    schedule8_condition: str = ""
    transfer_channel: str = TransferChannel.API
    notes: str = ""
    face_box: list[float] | None = None


def _actor_name(actor: User | None) -> str:
    return (actor.get_full_name() or actor.get_username()) if actor else "system"


def provenance_clean(provenance: Provenance, *, agreement: Agreement) -> Provenance:
    """Refuse missing or inconsistent provenance; fill the defaults the agreement implies."""
    missing = [name for name in PROVENANCE_REQUIRED if not getattr(provenance, name)]
    if missing:
        raise ProvenanceInvalid(
            "Provenance is incomplete: " + ", ".join(missing) + ".",
            code="missing_provenance",
            details={name: ["This field is required."] for name in missing},
        )
    errors: dict[str, list[str]] = {}
    if provenance.custody_category not in CustodyCategory.values:
        errors["custody_category"] = [f"Unknown custody category {provenance.custody_category!r}."]
    elif non_app_categories([provenance.custody_category], agreement=agreement):
        raise CategoryNotPermitted(
            f"'{CustodyCategory(provenance.custody_category).label}' is not an APP watchlist category. "
            + APP_CATEGORY_RULE,
            code="custody_category_not_app",
            details={"custody_category": [provenance.custody_category]},
        )
    if provenance.legal_basis not in Section35Basis.values:
        errors["legal_basis"] = ["Unknown s.35 basis."]
    schedule8 = provenance.schedule8_condition or agreement.schedule8_condition
    if schedule8 not in Schedule8Condition.values:
        errors["schedule8_condition"] = ["Unknown Schedule 8 condition."]
    if provenance.transfer_channel not in TransferChannel.values:
        errors["transfer_channel"] = ["Unknown transfer channel."]
    today = timezone.localdate()
    shared_on = provenance.shared_on or today
    if provenance.image_taken_on > today:
        errors["image_taken_on"] = ["The image cannot have been taken in the future."]
    if shared_on > today:
        errors["shared_on"] = ["The image cannot have been shared in the future."]
    if provenance.image_taken_on > shared_on:
        errors["image_taken_on"] = ["The image cannot have been taken after it was shared."]
    box = provenance.face_box
    if box is not None:
        if (
            not isinstance(box, (list, tuple))
            or len(box) != 4
            or not all(isinstance(v, (int, float)) and v >= 0 for v in box)
            or box[2] <= box[0]
            or box[3] <= box[1]
        ):
            errors["face_box"] = ["A face box is four non-negative numbers [x1, y1, x2, y2] with x2 > x1 and y2 > y1."]
    for name, limit in (("subject_reference", 64), ("custody_reference", 120)):
        if len(str(getattr(provenance, name))) > limit:
            errors[name] = [f"At most {limit} characters."]
    if errors:
        raise ProvenanceInvalid("Provenance is not valid.", details=errors)
    return Provenance(
        **{
            **provenance.__dict__,
            "shared_on": shared_on,
            "schedule8_condition": schedule8,
            "face_box": [float(v) for v in box] if box is not None else None,
        }
    )


def _supplier_may_upload(organisation: Organisation | None, agreement: Agreement) -> bool:
    if organisation is None or not organisation.is_police:
        return False
    return (
        organisation.pk == agreement.supplying_organisation_id
        or organisation.parent_id == agreement.supplying_organisation_id
    )


def _agreement_for_upload(actor: User, agreement_id: int) -> Agreement:
    """The agreement if the actor may see it (units read their force's agreements). Otherwise: not found."""
    return agreement_for(actor, agreement_id)


def agreement_check_accepts_images(agreement: Agreement, *, on: date | None = None) -> None:
    """Raise ``AgreementRefusesImage`` unless images may flow under the agreement today."""
    today = on or timezone.localdate()
    if not agreement.is_sharing:
        raise AgreementRefusesImage(
            f"Agreement {agreement.reference} is {agreement.get_status_display().lower()}; images can only be shared "
            "under an active agreement.",
            code="agreement_not_active",
            details={"status": agreement.status},
        )
    if today < agreement.starts_on:
        raise AgreementRefusesImage(
            f"Agreement {agreement.reference} starts on {agreement.starts_on:%d %B %Y}.",
            code="agreement_not_started",
        )
    if today > agreement.ends_on:
        raise AgreementRefusesImage(
            f"Agreement {agreement.reference} ended on {agreement.ends_on:%d %B %Y}.",
            code="agreement_ended",
        )


def _grant_image_access(image: WatchlistImage) -> None:
    """Supplier (and its force) read and manage the image; the operator and regulators read metadata only.

    Bytes and withdrawal are granted only to the supplying side; a role without the matching model
    permission still cannot use the object permission (both are required).
    """
    supplier_groups = {image.supplying_organisation.access_group}
    if image.supplying_force_id != image.supplying_organisation_id:
        supplier_groups.add(image.supplying_force.access_group)
    for group in supplier_groups:
        for perm in ("view_watchlistimage", "view_watchlistimage_bytes", "withdraw_watchlistimage"):
            assign_perm(f"governance.{perm}", group, image)
    assign_perm("governance.view_watchlistimage", image.agreement.receiving_organisation.access_group, image)
    assign_perm("governance.view_watchlistimage", Group.objects.get(name=REGULATORS_GROUP_NAME), image)


def _store(image: WatchlistImage, clean: CleanImage) -> None:
    WatchlistImageContent.objects.create(
        image=image,
        ciphertext=encryption.encrypt(clean.data),
        key_id=encryption.key_fingerprint(),
        content_type=clean.content_type,
    )


def _locked_agreement(agreement_id: int) -> Agreement:
    # Serialises uploads per agreement so the cap and duplicate checks cannot race.
    return (
        lock_rows(Agreement.objects)
        .select_related("supplying_organisation", "receiving_organisation")
        .get(pk=agreement_id)
    )


def watchlist_image_upload(
    *,
    actor: User,
    agreement_id: int,
    image_bytes: bytes,
    provenance: Provenance,
    token_key: str = "",
) -> WatchlistImage:
    """Accept an uploaded image against its agreement, keep the bytes as sent encrypted, audit ``collection``.

    Issue 26: the request does only what is cheap and bounded (``image_precheck``: size, type, header, the format's
    decode budget, JPEG scans; provenance; the agreement; the duplicate of the uploaded bytes' SHA-256). The image is
    returned ``received`` and ``awaiting_check`` ("checking"); after commit the registered handlers' work runs in the
    worker (recognition calls ``watchlist_image_process_upload``, which decodes and cleans the bytes or rejects the
    image with the decode's code, then enrols it).
    Transaction: its own ``atomic`` (a savepoint inside a caller's); nothing is written unless every check passes.
    Refusals: ``NotFound`` (agreement not visible), ``PermissionRefused`` (role), ``NotAParty``,
    ``ProvenanceInvalid``, ``CategoryNotPermitted``, ``AgreementRefusesImage`` (state, dates, cap),
    ``ImageRefused`` / ``ImageTooLarge``, ``DuplicateImage``, ``ImageDoorBusy`` (429: the organisation's decode
    slots are all taken, ``governance.image_doors``).
    """
    if not can_upload_watchlist_image(actor):
        raise PermissionRefused("Your role cannot upload watchlist images.", code="role_cannot_upload")
    agreement = _agreement_for_upload(actor, agreement_id)
    if not _supplier_may_upload(actor.organisation, agreement):
        raise NotAParty(
            f"{actor.organisation} does not supply images under agreement {agreement.reference}; "
            f"only {agreement.supplying_organisation} (or its units) may.",
        )
    provenance = provenance_clean(provenance, agreement=agreement)
    if provenance.custody_category not in agreement.permitted_custody_categories:
        raise CategoryNotPermitted(
            f"Agreement {agreement.reference} does not permit images of people in custody category "
            f"'{CustodyCategory(provenance.custody_category).label}'.",
            details={"permitted": agreement.permitted_custody_categories},
        )
    agreement_check_accepts_images(agreement)
    with image_door(actor):  # the organisation's upload slots (a coded 429 when all are taken)
        facts = image_precheck(image_bytes)
    with transaction.atomic():
        agreement = _locked_agreement(agreement.pk)
        agreement_check_accepts_images(agreement)
        return _create(
            actor=actor,
            agreement=agreement,
            clean=None,
            unchecked=(facts, image_bytes),
            provenance=provenance,
            token_key=token_key,
            enforce_cap=True,
            retrospective=False,
        )


@dataclass(frozen=True)
class BulkFile:
    """One file of a bulk upload as the door parsed it: its bytes and provenance, or the refusal of its parsing."""

    name: str
    agreement_id: int | None = None
    image_bytes: bytes = b""
    provenance: Provenance | None = None
    refusal: ApplicationError | None = None


def watchlist_bulk_upload(
    *, actor: User, files: list[BulkFile], channel: str = TransferChannel.API, token_key: str = ""
) -> WatchlistBulkUpload:
    """Record a bulk upload and the result of each file at receipt (issue 26): the accepted image (``checking``; the
    worker decodes it, as a single upload) or the coded refusal. One file's refusal does not stop the others.

    Each file costs only the cheap checks of ``watchlist_image_upload``; each accepted image and its result row
    commit together (the image's own transaction), so a file is never accepted without its result, and an accepted
    image whose task is lost is picked up by the recovery sweep (``recognition.tasks.enrol_pending_images``).
    Refusals of the whole request (role, item count) are the caller's, before this is called.
    """
    if not can_upload_watchlist_image(actor):
        raise PermissionRefused("Your role cannot upload watchlist images.", code="role_cannot_upload")
    bulk = WatchlistBulkUpload.objects.create(
        organisation=actor.organisation, submitted_by=actor, channel=channel, created_at=timezone.now()
    )
    for index, file in enumerate(files):
        item = WatchlistBulkItem(bulk=bulk, index=index, name=file.name[:200])
        try:
            if file.refusal is not None:
                raise file.refusal
            if file.provenance is None or file.agreement_id is None:
                raise ProvenanceInvalid(f"No provenance names {file.name}.", code="missing_provenance")
            with transaction.atomic():
                item.image = watchlist_image_upload(
                    actor=actor,
                    agreement_id=file.agreement_id,
                    image_bytes=file.image_bytes,
                    provenance=Provenance(**{**file.provenance.__dict__, "transfer_channel": channel}),
                    token_key=token_key,
                )
                item.save()
        except ApplicationError as error:
            item.image = None
            item.code, item.message, item.status_code = error.code, error.message, error.status_code
            item.details = error.details or None
            item.save()
    return bulk


def _create(
    *,
    actor: User | None,
    agreement: Agreement,
    clean: CleanImage | None,
    provenance: Provenance,
    token_key: str,
    enforce_cap: bool,
    retrospective: bool,
    supplying_organisation: Organisation | None = None,
    sha256: str = "",
    unchecked: tuple[ImageFacts, bytes] | None = None,
) -> WatchlistImage:
    live = WatchlistImage.objects.filter(agreement=agreement, status__in=LIVE_STATUSES)
    if enforce_cap and live.count() >= agreement.max_images:
        raise AgreementRefusesImage(
            f"Agreement {agreement.reference} allows at most {agreement.max_images} images at a time and that many "
            "are already held; withdraw one first.",
            code="image_cap_reached",
            details={"max_images": agreement.max_images},
        )
    facts = unchecked[0] if unchecked else None
    sha256 = clean.original_sha256 if clean else facts.sha256 if facts else sha256
    stored_sha256 = hashlib.sha256(clean.data).hexdigest() if clean else ""
    if sha256:
        blocking = WatchlistImage.objects.filter(agreement=agreement, status__in=DUPLICATE_BLOCKING_STATUSES)
        # Also the canonical (re-encoded, metadata-free) bytes: the same pixels with a polyglot
        # trailer or different EXIF are the same image, though the uploaded bytes differ.
        same = Q(sha256=sha256) | Q(stored_sha256=stored_sha256) if stored_sha256 else Q(sha256=sha256)
        existing = blocking.filter(same).values_list("pk", flat=True).first()
        if existing:
            raise DuplicateImage(
                f"This image (same bytes or same pixels) is already held under agreement {agreement.reference}.",
                details={"existing_image": existing},
            )
    supplier = supplying_organisation or actor.organisation
    image = WatchlistImage(
        agreement=agreement,
        supplying_organisation=supplier,
        supplying_force=supplier.force or supplier,
        subject_reference=provenance.subject_reference,
        custody_category=provenance.custody_category,
        legal_basis=provenance.legal_basis,
        schedule8_condition=provenance.schedule8_condition,
        custody_reference=provenance.custody_reference,
        image_taken_on=provenance.image_taken_on,
        shared_on=provenance.shared_on,
        transfer_channel=provenance.transfer_channel,
        notes=provenance.notes,
        face_box=provenance.face_box,
        submitted_by=actor,
        submitted_by_name=_actor_name(actor) if actor else "",
        submitted_via_token=token_key,
        received_at=timezone.now(),
        sha256=sha256,
        stored_sha256=stored_sha256,
        image_format=clean.format if clean else facts.format if facts else "",
        width=clean.width if clean else None,
        height=clean.height if clean else None,
        original_bytes=clean.original_bytes if clean else facts.original_bytes if facts else None,
        awaiting_check=unchecked is not None,
        recorded_retrospectively=retrospective,
    )
    try:
        with transaction.atomic():
            image.save(force_insert=True)
    except IntegrityError:
        # A concurrent upload of the same bytes won the race past the check above.
        raise DuplicateImage(
            f"This image (same SHA-256) is already held under agreement {agreement.reference}."
        ) from None
    if clean:
        _store(image, clean)
    if unchecked:
        WatchlistImageUpload.objects.create(
            image=image, ciphertext=encryption.encrypt(unchecked[1]), key_id=encryption.key_fingerprint()
        )
    _grant_image_access(image)
    audit_record(
        action=AuditAction.COLLECTION,
        event="watchlist_image.recorded_retrospectively" if retrospective else "watchlist_image.received",
        actor=actor,
        target=image,
        details={
            "agreement": agreement.reference,
            "supplier": supplier.short_name,
            "custody_category": image.custody_category,
            "channel": image.transfer_channel,
            "sha256": sha256,
            "token": token_key,
            "has_bytes": bool(clean or unchecked),
        },
    )
    # For the force the same supply is a disclosure (s.62(1)(d)): by the force, to the operator, under
    # the agreement (issue 22). Same transaction: both are recorded or neither.
    audit_record(
        action=AuditAction.DISCLOSURE,
        event="watchlist_image.disclosed_to_operator",
        actor=actor,
        target=image,
        recipient=agreement.receiving_organisation.name,
        justification=f"Shared under agreement {agreement.reference} ({agreement.title})",
        details={"agreement": agreement.reference, "supplier": supplier.short_name},
    )
    if (clean or unchecked) and not retrospective:
        for handler in image_handlers():
            handler.image_received(image)
    return image


def watchlist_image_record_historical(
    *,
    actor: User | None,
    agreement: Agreement,
    supplying_organisation: Organisation,
    provenance: Provenance,
    image_bytes: bytes | None = None,
    note_without_bytes: str = "",
) -> WatchlistImage:
    """Enter an image shared outside Oversight (King's Cross 2016-2018) as a record of what happened.

    The agreement's state and dates are not enforced (it is past), but the supplier must be its
    supplying side, the category and cap still apply, and bytes (when any) are validated and
    encrypted exactly as an upload. Historical images are never enrolled.
    """
    if not (
        supplying_organisation.pk == agreement.supplying_organisation_id
        or supplying_organisation.parent_id == agreement.supplying_organisation_id
    ):
        raise NotAParty(f"{supplying_organisation} does not supply images under agreement {agreement.reference}.")
    provenance = provenance_clean(provenance, agreement=agreement)
    if provenance.custody_category not in agreement.permitted_custody_categories:
        raise CategoryNotPermitted(
            f"Agreement {agreement.reference} does not permit category {provenance.custody_category}."
        )
    clean = image_clean(image_bytes) if image_bytes else None
    if not clean and note_without_bytes:
        provenance = Provenance(
            **{**provenance.__dict__, "notes": (provenance.notes + "\n" + note_without_bytes).strip()}
        )
    with transaction.atomic():
        agreement = _locked_agreement(agreement.pk)
        return _create(
            actor=actor,
            agreement=agreement,
            clean=clean,
            provenance=provenance,
            token_key="",
            enforce_cap=True,
            retrospective=True,
            supplying_organisation=supplying_organisation,
        )


def watchlist_image_read_bytes(
    *, actor: User, image: WatchlistImage, justification: str, token_key: str = ""
) -> tuple[bytes, str]:
    """Decrypt an image's bytes for a user of the supplying side; audit ``consultation`` with the justification.

    DPA 2018 s.62(3): a consultation log shows the justification, the date and time and who consulted.
    Regulators and the operator's staff see metadata only: 403 here. Transaction: its own.
    """
    justification = (justification or "").strip()
    image_check(actor, image, to="bytes")
    if not meaningful_justification(justification, minimum=MIN_JUSTIFICATION_CHARS):
        raise JustificationRequired(
            f"Say why you need to see this image (at least {MIN_JUSTIFICATION_CHARS} characters): "
            "every consultation is logged with its justification (DPA 2018 s.62).",
        )
    with transaction.atomic():
        content = WatchlistImageContent.objects.filter(image_id=image.pk).first()
        if content is None:
            if image.awaiting_check:  # the bytes as uploaded are never served (issue 26)
                raise StateConflict(
                    "This image is still being checked; its bytes can be read once the check has cleaned them.",
                    code="image_checking",
                )
            if image.status == ImageStatus.ERASED:
                raise ImageGone("This image was erased; only its provenance and deletion certificate remain.")
            raise NotFound("No image bytes are held for this record.", code="no_image_bytes")
        data = encryption.decrypt(content.ciphertext)
        audit_record(
            action=AuditAction.CONSULTATION,
            event="watchlist_image.bytes_read",
            actor=actor,
            target=image,
            justification=justification,
            details={"token": token_key, "agreement": image.agreement.reference},
        )
    return data, content.content_type


def watchlist_image_bytes_for_processing(*, image_id: int) -> bytes | None:
    """The decrypted clean bytes for the system's own processing (enrolment, reviewers' crops). The caller audits
    what it does. None while the image is checking: the bytes as uploaded (``WatchlistImageUpload``) are only ever
    read by ``watchlist_image_process_upload``."""
    content = WatchlistImageContent.objects.filter(image_id=image_id).first()
    return encryption.decrypt(content.ciphertext) if content else None


def watchlist_image_process_upload(*, image_id: int) -> str:
    """The worker's check of an accepted upload (issue 26): full decode, EXIF orientation, metadata-free re-encode.

    Returns ``"clean"`` (the clean bytes replace the uploaded ones; width, height and ``stored_sha256`` filled; audit
    ``alteration`` ``watchlist_image.cleaned``), ``"rejected:<code>"`` (the decode refused the bytes with the codes of
    ``image_clean``, or the canonical pixels are those of an image already held: ``duplicate_image``; audit
    ``alteration`` ``watchlist_image.rejected``) or ``"skipped:<why>"`` (nothing to check: already checked, withdrawn,
    erased). Whatever the outcome the bytes as uploaded (EXIF, GPS) are deleted: they never outlive processing.

    Transaction: none during the decode; one ``atomic`` with the image row locked to write the outcome. Idempotent and
    safe to run concurrently (the second finds the image checked and skips).
    """
    pending = WatchlistImageUpload.objects.filter(image_id=image_id).first()
    if pending is None:
        return "skipped:no_upload"
    clean, refusal = image_clean_stored(pending.ciphertext)
    with transaction.atomic():
        # The agreement first, as an upload locks it (same order, no deadlock): the canonical-pixels check below
        # cannot race another image of the agreement being cleaned at the same time.
        agreement_id = WatchlistImage.objects.filter(pk=image_id).values_list("agreement_id", flat=True).first()
        if agreement_id is None:
            return "skipped:missing"
        _locked_agreement(agreement_id)
        image = lock_rows(WatchlistImage.objects).select_related("agreement").filter(pk=image_id).first()
        if image is None:
            return "skipped:missing"
        erased_upload = WatchlistImageUpload.objects.filter(image_id=image_id).delete()[0]
        if not erased_upload or not image.awaiting_check:
            return f"skipped:{image.status}"
        image.awaiting_check = False
        if image.status != ImageStatus.RECEIVED:  # withdrawn while it waited: erasure took the bytes
            image.save(update_fields=["awaiting_check"])
            return f"skipped:{image.status}"
        if clean is not None:
            stored_sha256 = hashlib.sha256(clean.data).hexdigest()
            same_pixels = (
                WatchlistImage.objects.filter(
                    agreement_id=image.agreement_id,
                    status__in=DUPLICATE_BLOCKING_STATUSES,
                    stored_sha256=stored_sha256,
                )
                .exclude(pk=image.pk)
                .values_list("pk", flat=True)
                .first()
            )
            if same_pixels:
                refusal = DuplicateImage(
                    f"This image has the same pixels as image #{same_pixels}, already held under agreement "
                    f"{image.agreement.reference}.",
                    details={"existing_image": same_pixels},
                )
        if refusal is not None:
            image.save(update_fields=["awaiting_check"])
            watchlist_image_record_rejection(image=image, reason=refusal.code, message=refusal.message)
            return f"rejected:{refusal.code}"
        _store(image, clean)
        image.stored_sha256 = stored_sha256
        image.width, image.height = clean.width, clean.height
        image.save(update_fields=["awaiting_check", "stored_sha256", "width", "height"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="watchlist_image.cleaned",
            actor=None,
            target=image,
            details={
                "agreement": image.agreement.reference,
                "stored_sha256": stored_sha256,
                "uploaded_bytes_erased": True,
            },
        )
    return "clean"


def watchlist_image_record_enrolment(*, image: WatchlistImage, template: Any, details: dict[str, Any]) -> None:
    """Mark an image enrolled; audit ``combination``. Must run inside the caller's transaction with
    ``image`` locked (``select_for_update``); the caller has checked the image is still ``received``."""
    image.status = ImageStatus.ENROLLED
    image.enrolled_at = timezone.now()
    image.save(update_fields=["status", "enrolled_at"])
    audit_record(
        action=AuditAction.COMBINATION,
        event="watchlist_image.enrolled",
        actor=None,
        target=image,
        details={
            "template": f"{template._meta.label_lower}:{template.pk}",
            "agreement": image.agreement.reference,
            **details,
        },
    )


def watchlist_image_record_rejection(*, image: WatchlistImage, reason: RejectionReason | str, message: str) -> None:
    """Mark an image rejected at enrolment with a reason code; audit ``alteration``. Same transaction rules."""
    image.status = ImageStatus.REJECTED
    image.rejection_reason = str(reason)
    image.rejection_message = message
    image.rejected_at = timezone.now()
    image.save(update_fields=["status", "rejection_reason", "rejection_message", "rejected_at"])
    audit_record(
        action=AuditAction.ALTERATION,
        event="watchlist_image.rejected",
        actor=None,
        target=image,
        details={"reason": str(reason)},
    )


def watchlist_image_withdraw(*, actor: User, image: WatchlistImage, reason: str, token_key: str = "") -> WatchlistImage:
    """Withdraw an image: it stops matching at once, its bytes and every derived template are erased.

    Transaction: its own. Audits ``alteration`` (withdrawn) then ``erasure``, and writes a deletion
    certificate per erased item. Registered handlers (recognition) erase templates inside the same
    transaction and tell every worker's gallery after commit. Idempotent refusal: an image already
    withdrawn is a ``StateConflict``.
    """
    image_check(actor, image, to="withdraw")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            "Give a reason for the withdrawal; it is kept on the deletion certificate.", code="reason_required"
        )
    with transaction.atomic():
        image = lock_rows(WatchlistImage.objects).select_related("agreement").get(pk=image.pk)
        if image.status in {ImageStatus.WITHDRAWN, ImageStatus.ERASED}:
            raise StateConflict("This image has already been withdrawn.", code="already_withdrawn")
        previous = image.status
        image.status = ImageStatus.WITHDRAWN
        image.withdrawn_at = timezone.now()
        image.withdrawn_by = actor
        image.withdrawn_by_name = _actor_name(actor)
        image.withdrawal_reason = reason
        image.save(update_fields=["status", "withdrawn_at", "withdrawn_by", "withdrawn_by_name", "withdrawal_reason"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="watchlist_image.withdrawn",
            actor=actor,
            target=image,
            justification=reason,
            details={"previous_status": previous, "token": token_key},
        )
        watchlist_image_erase(image=image, actor=actor, reason=reason, rule="withdrawal")
    image.refresh_from_db()
    return image


def watchlist_image_erase(
    *,
    image: WatchlistImage,
    actor: User | None,
    reason: str,
    rule: str,
    run_id: str | None = None,
) -> list[DeletionCertificate]:
    """Erase an image's bytes and everything derived from it; certificates + ``erasure`` event.

    For withdrawal and, later, retention sweeps (``run_id``). Runs in its own atomic block (a
    savepoint inside the caller's). Idempotent: an erased image yields no new certificates.
    """
    with transaction.atomic():
        image = lock_rows(WatchlistImage.objects).select_related("agreement").get(pk=image.pk)
        if image.status == ImageStatus.ERASED:
            return []
        now = timezone.now()
        erased: list[ErasedItem] = []
        content = WatchlistImageContent.objects.filter(image_id=image.pk).first()
        if content is not None:
            erased.append(
                ErasedItem(
                    subject_type="governance.watchlistimagecontent",
                    subject_id=str(image.pk),
                    sha256=image.stored_sha256,
                    label=f"Image bytes of {image}",
                )
            )
            content.delete()
        pending = WatchlistImageUpload.objects.filter(image_id=image.pk).first()
        if pending is not None:  # withdrawn before the worker checked it: the bytes as uploaded go too
            erased.append(
                ErasedItem(
                    subject_type="governance.watchlistimageupload",
                    subject_id=str(image.pk),
                    sha256=image.sha256,
                    label=f"Uploaded bytes (not yet checked) of {image}",
                )
            )
            pending.delete()
        for handler in image_handlers():
            erased.extend(handler.image_erasing(image, actor=actor, reason=reason))
        certificates = [
            DeletionCertificate.objects.create(
                subject_type=item.subject_type,
                subject_id=item.subject_id,
                subject_label=item.label[:300],
                sha256=item.sha256,
                reason=reason,
                rule=rule,
                erased_at=now,
                erased_by=actor,
                erased_by_name=_actor_name(actor),
                run_id=run_id,
                supplier_organisation_id=image.supplying_organisation_id,
                operator_organisation_id=image.agreement.receiving_organisation_id,
                details={
                    "watchlist_image": image.pk,
                    "agreement": image.agreement.reference,
                    "original_sha256": image.sha256,
                },
            )
            for item in erased
        ]
        image.status = ImageStatus.ERASED
        image.erased_at = now
        image.awaiting_check = False
        image.save(update_fields=["status", "erased_at", "awaiting_check"])
        audit_record(
            action=AuditAction.ERASURE,
            event="watchlist_image.erased",
            actor=actor,
            target=image,
            justification=reason,
            details={
                "rule": rule,
                "run_id": run_id,
                "certificates": [c.pk for c in certificates],
                "erased": [f"{i.subject_type}:{i.subject_id}" for i in erased],
            },
        )
    return certificates


def watchlist_images_carry_to_amendment(*, old: Agreement, new: Agreement) -> list[int]:
    """Images held under a superseded version continue under the amendment that replaced it, where
    the amendment permits them (custody category; the cap, oldest first). Runs inside the
    approval's transaction; audited as one ``alteration`` naming every image carried.

    Images it does not carry stay under the superseded version and are erased by its retention
    rule (``watchlist_image.agreement_ended``) within the agreement's hours.
    """
    held = list(
        lock_rows(WatchlistImage.objects).filter(agreement=old, status__in=LIVE_STATUSES).order_by("received_at", "pk")
    )
    if not held:
        return []
    room = max(new.max_images - WatchlistImage.objects.filter(agreement=new, status__in=LIVE_STATUSES).count(), 0)
    carried = [image.pk for image in held if image.custody_category in new.permitted_custody_categories][:room]
    WatchlistImage.objects.filter(pk__in=carried).update(agreement=new)
    audit_record(
        action=AuditAction.ALTERATION,
        event="watchlist_images.carried_to_amendment",
        actor=None,
        target=new,
        details={
            "from_version": old.version,
            "to_version": new.version,
            "carried": carried,
            "left_for_erasure": [image.pk for image in held if image.pk not in set(carried)],
        },
    )
    for handler in image_handlers():
        handler.images_moved(image_ids=carried)
    return carried
