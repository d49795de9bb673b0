"""Refusals of the watchlist services, each with a machine-readable code and a human sentence."""

from __future__ import annotations

from governance.errors import ApplicationError, NotFound, PermissionRefused, StateConflict, ValidationFailed


class ImageRefused(ValidationFailed):
    """The uploaded bytes are not an acceptable image (type, size, pixels, corrupt)."""

    status_code = 422
    default_code = "image_refused"


class ImageTooLarge(ImageRefused):
    status_code = 413


class ProvenanceInvalid(ValidationFailed):
    default_code = "invalid_provenance"


class AgreementRefusesImage(StateConflict):
    """The agreement does not allow this image now (not active, ended, cap reached, category)."""

    default_code = "agreement_refuses_image"


class CategoryNotPermitted(ApplicationError):
    status_code = 422
    default_code = "category_not_permitted"


class DuplicateImage(StateConflict):
    default_code = "duplicate_image"


class NotAParty(PermissionRefused):
    default_code = "not_a_party"


class ImageGone(ApplicationError):
    status_code = 410
    default_code = "image_erased"


class JustificationRequired(ValidationFailed):
    default_code = "justification_required"


__all__ = [
    "AgreementRefusesImage",
    "CategoryNotPermitted",
    "DuplicateImage",
    "ImageGone",
    "ImageRefused",
    "ImageTooLarge",
    "JustificationRequired",
    "NotAParty",
    "NotFound",
    "PermissionRefused",
    "ProvenanceInvalid",
    "StateConflict",
]
