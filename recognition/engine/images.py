"""Decoding untrusted image bytes (force uploads, camera frames, subject-access search photos) safely.

Every image that reaches the engine comes from outside: a police API upload, a camera gateway, a DPO's upload for a
subject access request. A malformed or hostile file must become a clear, user-facing rejection, never a crash or an
out-of-memory kill of the worker that also serves live matching. So the format is sniffed from the bytes (not the
file name or declared content type), only JPEG, PNG and WebP are accepted, and the pixel count is checked from the
header before any pixel is decoded (decompression-bomb guard).
"""

from __future__ import annotations

import io
import threading
import warnings
from dataclasses import dataclass

from PIL import Image, ImageFile, ImageOps

from governance.imagetypes import other_image_type, sniff_format

# Pillow's truncated-image tolerance is a process-wide flag that some libraries (WeasyPrint) switch on at import; a
# truncated upload must still be rejected here, so decoding runs with the flag off under this lock.
_STRICT_DECODE = threading.Lock()


@dataclass(frozen=True)
class ImageRejected(Exception):
    """An input image the engine will not process; ``code`` is stable for APIs, ``message`` is for people.

    Codes: ``empty_file``, ``not_an_image``, ``unsupported_type``, ``too_many_pixels``, ``truncated_image``.
    """

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def decode_image(data: bytes, *, max_pixels: int) -> Image.Image:
    """Decode JPEG/PNG/WebP bytes into an RGB ``PIL.Image`` with EXIF orientation applied.

    Raises ``ImageRejected`` for empty input, non-images, other image types, more than ``max_pixels`` pixels (checked
    from the header, before decoding), and truncated or corrupt data. Orientation is applied because a phone photo
    uploaded sideways would otherwise yield no face at all.
    """
    if not data:
        raise ImageRejected("empty_file", "The file is empty.")
    kind = sniff_format(data)
    if kind is None:
        other = other_image_type(data)
        if other:
            raise ImageRejected("unsupported_type", f"{other} images are not accepted; send JPEG, PNG or WebP.")
        raise ImageRejected("not_an_image", "The file is not a JPEG, PNG or WebP image.")
    with warnings.catch_warnings():
        # Pillow's own bomb check warns (or raises) at its global limit; ours is explicit and per call.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[kind])
        except Image.DecompressionBombError:
            raise ImageRejected("too_many_pixels", f"The image has more than {max_pixels:,} pixels.") from None
        except Exception:  # noqa: BLE001 - Pillow raises many types for unparseable headers
            raise ImageRejected("not_an_image", f"The file looks like {kind} but its header cannot be read.") from None
        width, height = image.size
        if width <= 0 or height <= 0:
            raise ImageRejected("not_an_image", "The image has no pixels.")
        if width * height > max_pixels:
            raise ImageRejected(
                "too_many_pixels",
                f"The image is {width}x{height} ({width * height:,} pixels); the limit is {max_pixels:,} pixels.",
            )
        try:
            with _STRICT_DECODE:
                tolerant, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
                try:
                    image.load()
                finally:
                    ImageFile.LOAD_TRUNCATED_IMAGES = tolerant
            image = ImageOps.exif_transpose(image)
            return image.convert("RGB")
        except (OSError, SyntaxError, ValueError) as exc:
            raise ImageRejected(
                "truncated_image",
                f"The {kind} data is truncated or corrupt and cannot be decoded ({type(exc).__name__}).",
            ) from None
        except Image.DecompressionBombError:
            raise ImageRejected("too_many_pixels", f"The image has more than {max_pixels:,} pixels.") from None
