"""Checking and cleaning the bytes a force uploads, before anything is stored.

The bytes come from outside, so: the type is sniffed from the leading bytes (never the file name or
the declared content type), only JPEG, PNG and WebP are accepted, the size is capped, and the pixel
count is read from the *header* and refused before any pixel is decoded (a decompression bomb is a
few kilobytes that decode to gigabytes), as is a JPEG with more scans than any encoder writes (each
progressive scan is a pass over every block: a scan bomb costs seconds of CPU per request). Those checks are
``image_precheck``: cheap and bounded, they are all a web request runs (issue 26). ``image_clean`` then fully decodes
the image (a truncated file is refused there) and re-encodes it without any metadata, so EXIF — GPS position, device
serial numbers, capture software — never outlives processing; the worker runs it
(``governance.watchlist.services.watchlist_image_process_upload``). EXIF orientation is applied first so the stored
pixels look as the force saw them.

Type sniffing is shared with the face engine through ``governance.imagetypes`` (governance does not import
recognition; recognition may import governance).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageFile, ImageOps

from governance.imagetypes import (
    CONTENT_TYPES,
    HeaderUnreadable,
    decode_budget_problem,
    image_header,
    jpeg_scan_count,
    other_image_type,
    sniff_format,
)
from governance.watchlist.errors import ImageRefused, ImageTooLarge


@dataclass(frozen=True)
class CleanImage:
    """What is stored: metadata-free bytes, and facts about the original upload."""

    data: bytes
    format: str
    content_type: str
    width: int
    height: int
    original_sha256: str
    original_bytes: int


@dataclass(frozen=True)
class ImageFacts:
    """What the cheap checks learn of an upload: its format, its size from the header, and its SHA-256."""

    format: str
    width: int
    height: int
    sha256: str
    original_bytes: int


def max_bytes() -> int:
    return settings.OVERSIGHT_WATCHLIST_MAX_BYTES


def max_pixels() -> int:
    return settings.OVERSIGHT_WATCHLIST_MAX_PIXELS


def image_precheck(data: bytes) -> ImageFacts:
    """The checks an upload passes before it is accepted, all cheap and bounded (no pixel is decoded); raise
    ``ImageRefused`` with a stable code otherwise. The web request runs only these (issue 26: decoding is the
    worker's, ``image_clean``).

    Codes: ``empty_file``, ``file_too_large``, ``unsupported_type``, ``not_an_image``,
    ``too_many_pixels``, ``decode_budget_exceeded``, ``too_many_scans``, ``image_too_small``.
    The size, pixels and decoded bytes come from the header (``governance.imagetypes.image_header``) and are held
    to the format's budget (``OVERSIGHT_IMAGE_DECODE_PIXELS``, ``OVERSIGHT_IMAGE_DECODE_MAX_BYTES``) before Pillow
    opens the file.
    """
    if not data:
        raise ImageRefused("The image file is empty.", code="empty_file")
    if len(data) > max_bytes():
        raise ImageTooLarge(
            f"The image is {len(data):,} bytes; the limit is {max_bytes():,} bytes.",
            code="file_too_large",
            details={"bytes": len(data), "limit": max_bytes()},
        )
    kind = sniff_format(data)
    if kind is None:
        other = other_image_type(data)
        if other:
            raise ImageRefused(f"{other} images are not accepted; send JPEG, PNG or WebP.", code="unsupported_type")
        raise ImageRefused("The file is not a JPEG, PNG or WebP image.", code="not_an_image")
    try:
        _kind, header_width, header_height, bytes_per_pixel = image_header(data)
    except HeaderUnreadable:
        raise ImageRefused(f"The file starts like {kind} but its header cannot be read.", code="not_an_image") from None
    # The format's decode budget, from the header alone: nothing is decompressed before this passes.
    problem = decode_budget_problem(
        kind,
        header_width,
        header_height,
        bytes_per_pixel,
        pixels={name: min(limit, max_pixels()) for name, limit in settings.OVERSIGHT_IMAGE_DECODE_PIXELS.items()},
        memory=settings.OVERSIGHT_IMAGE_DECODE_MAX_BYTES,
    )
    if problem:
        code, message = problem
        raise ImageRefused(
            message,
            code=code,
            details={
                "format": kind,
                "width": header_width,
                "height": header_height,
                "bytes_per_pixel": bytes_per_pixel,
            },
        )
    with warnings.catch_warnings():
        # Our own explicit limit below replaces Pillow's global bomb warning.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[kind])  # reads the header only
        except Image.DecompressionBombError:
            raise ImageRefused("The image has too many pixels.", code="too_many_pixels") from None
        except Exception:  # noqa: BLE001 - Pillow raises many types for unparseable headers
            raise ImageRefused(
                f"The file starts like {kind} but its header cannot be read.", code="not_an_image"
            ) from None
        width, height = image.size
        if width * height > max_pixels():
            raise ImageRefused(
                f"The image is {width}x{height} ({width * height:,} pixels); the limit is {max_pixels():,} pixels.",
                code="too_many_pixels",
                details={"width": width, "height": height, "limit": max_pixels()},
            )
        if kind == "JPEG" and (scans := jpeg_scan_count(data)) > settings.OVERSIGHT_JPEG_MAX_SCANS:
            raise ImageRefused(
                f"The JPEG has {scans} scans; at most {settings.OVERSIGHT_JPEG_MAX_SCANS} are accepted.",
                code="too_many_scans",
                details={"scans": scans, "limit": settings.OVERSIGHT_JPEG_MAX_SCANS},
            )
        minimum = settings.OVERSIGHT_WATCHLIST_MIN_SIDE
        if min(width, height) < minimum:
            raise ImageRefused(
                f"The image is {width}x{height}; each side must be at least {minimum} pixels to hold a usable face.",
                code="image_too_small",
            )
    return ImageFacts(
        format=kind, width=width, height=height, sha256=hashlib.sha256(data).hexdigest(), original_bytes=len(data)
    )


def image_clean(data: bytes) -> CleanImage:
    """Validate, fully decode and re-encode uploaded bytes; raise ``ImageRefused`` with a stable code otherwise.

    Codes: those of ``image_precheck``, and ``corrupt_image`` (truncated or corrupt data, found only by decoding).
    Costs a full decode: run it in the worker (``watchlist_image_process_upload``), never in a web request.
    """
    facts = image_precheck(data)
    kind = facts.format
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[kind])
        except Exception:  # noqa: BLE001 - the precheck opened it; anything now is a corrupt file
            raise ImageRefused(f"The {kind} data is truncated or corrupt.", code="corrupt_image") from None
        try:
            # WeasyPrint (agreement PDFs) sets this Pillow global to True when imported, which would
            # make a truncated upload decode "successfully" with grey padding. Watchlist images must
            # be complete, so insist on strict decoding every time.
            ImageFile.LOAD_TRUNCATED_IMAGES = False
            image.load()
            image = ImageOps.exif_transpose(image)
            image = image.convert("RGB")
        except Image.DecompressionBombError:
            raise ImageRefused("The image has too many pixels.", code="too_many_pixels") from None
        except Exception:  # noqa: BLE001 - truncated/corrupt data surfaces as OSError, SyntaxError, ValueError...
            raise ImageRefused(f"The {kind} data is truncated or corrupt.", code="corrupt_image") from None
    out = io.BytesIO()
    # Re-encoding writes pixels only: no EXIF, XMP, ICC or text chunks are carried over. Pillow
    # would copy a JPEG comment (COM segment) from ``info`` into the new file: forget it all.
    image.info = {}
    if kind == "JPEG":
        image.save(out, format="JPEG", quality=95, subsampling=0)
    elif kind == "PNG":
        image.save(out, format="PNG")
    else:
        image.save(out, format="WEBP", quality=95)
    return CleanImage(
        data=out.getvalue(),
        format=kind,
        content_type=CONTENT_TYPES[kind],
        width=image.width,
        height=image.height,
        original_sha256=facts.sha256,
        original_bytes=facts.original_bytes,
    )


def image_clean_stored(ciphertext: bytes) -> tuple[CleanImage | None, ImageRefused | None]:
    """The worker's half of a door (issue 26): decrypt the bytes kept as uploaded and clean them. Returns the clean
    image, or the refusal with its code; the decrypted upload is not kept beyond this call."""
    from governance import encryption

    data = encryption.decrypt(bytes(ciphertext))
    try:
        return image_clean(data), None
    except ImageRefused as refused:
        return None, refused
    finally:
        del data
