"""Which image type a file is and what decoding it would cost, from its leading bytes: the one place both upload
checking and the engine ask.

Never the file name or the declared content type: bytes from outside are sniffed. Pure Python with no Django import,
so the face engine (``recognition.engine.images``), which also runs without the web stack, can use it too.
"""

from __future__ import annotations

# The formats the product accepts anywhere (force uploads, camera frames, subject photos), with their media types.
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


def sniff_format(data: bytes) -> str | None:
    """Return "JPEG", "PNG" or "WEBP" from the leading bytes, else None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def other_image_type(data: bytes) -> str | None:
    """Name common image types the product refuses, so a message can say "unsupported" rather than "not an image"."""
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if data[:2] == b"BM":
        return "BMP"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypavif"):
        return "HEIF/AVIF"
    return None


def jpeg_scan_count(data: bytes) -> int:
    """How many start-of-scan markers a JPEG holds, counted before any decoding.

    A progressive JPEG is decoded scan by scan, each pass touching every block of the image, so a few
    kilobytes of repeated scans cost seconds of CPU (156 KB with 2,000 scans over 4000x4000 pixels:
    21 s) while the pixel count stays under its limit. Real encoders write at most a couple of dozen
    scans. Inside entropy-coded data a 0xFF byte is always followed by 0x00 or a restart marker, so
    FF DA occurs only as a marker — the count also includes an embedded thumbnail's scans, which a
    generous limit allows for.
    """
    return data.count(b"\xff\xda")


# --- what decoding will cost, from the header alone ------------------------------------------------------------------

# Start-of-frame markers of JPEG (baseline, extended, progressive, lossless, arithmetic); C4, C8 and CC are not frames.
_JPEG_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
# PNG colour type → channels as decoded (a palette decodes to RGB(A) pixels: counted as four).
_PNG_CHANNELS = {0: 1, 2: 3, 3: 4, 4: 2, 6: 4}


class HeaderUnreadable(ValueError):
    """The header does not say the image's size (the caller refuses the file before decoding anything)."""


def image_header(data: bytes) -> tuple[str, int, int, int]:
    """(format, width, height, decoded bytes per pixel) read from the header, before any decode.

    Pure Python over at most the first kilobytes: no pixel is decompressed, so a 1.5 KB file that would decode to
    gigabytes costs nothing here. Raises ``HeaderUnreadable`` when the header does not say the size.
    """
    kind = sniff_format(data)
    if kind == "PNG":
        if len(data) < 26 or data[12:16] != b"IHDR":
            raise HeaderUnreadable("PNG without an IHDR chunk")
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        depth, colour = data[24], data[25]
        return kind, width, height, _PNG_CHANNELS.get(colour, 4) * max(depth, 8) // 8
    if kind == "JPEG":
        return (kind, *_jpeg_size(data))
    if kind == "WEBP":
        return (kind, *_webp_size(data), 4)
    raise HeaderUnreadable("not a JPEG, PNG or WebP")


def _jpeg_size(data: bytes) -> tuple[int, int, int]:
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            raise HeaderUnreadable("JPEG marker expected")
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            at += 2
            continue
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        if marker in _JPEG_FRAMES:
            if at + 10 > len(data):
                break
            height = int.from_bytes(data[at + 5 : at + 7], "big")
            width = int.from_bytes(data[at + 7 : at + 9], "big")
            return width, height, max(data[at + 9], 1)
        if marker == 0xDA or length < 2:  # scan data before any frame header: no size
            break
        at += 2 + length
    raise HeaderUnreadable("JPEG without a frame header")


def _webp_size(data: bytes) -> tuple[int, int]:
    chunk, body = data[12:16], data[20:40]
    if chunk == b"VP8X" and len(body) >= 10:
        return 1 + int.from_bytes(body[4:7], "little"), 1 + int.from_bytes(body[7:10], "little")
    if chunk == b"VP8L" and len(body) >= 5 and body[0] == 0x2F:
        bits = int.from_bytes(body[1:5], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if chunk == b"VP8 " and len(body) >= 10 and body[3:6] == b"\x9d\x01\x2a":
        return int.from_bytes(body[6:8], "little") & 0x3FFF, int.from_bytes(body[8:10], "little") & 0x3FFF
    raise HeaderUnreadable("WebP without a VP8, VP8L or VP8X header")


def decode_budget_problem(
    kind: str, width: int, height: int, bytes_per_pixel: int, *, pixels: dict[str, int], memory: int
) -> tuple[str, str] | None:
    """(code, sentence) saying why decoding this image would cost more than its format's budget, or None.

    ``pixels``: the most pixels each format may have (decode time grows with them, at a rate per format: lossless
    WebP is the slowest, JPEG the fastest); ``memory``: the most bytes the decoded pixels may take (a 16-bit RGBA PNG
    takes eight bytes a pixel).
    """
    count = width * height
    if count > pixels[kind]:
        return (
            "too_many_pixels",
            f"{kind} images may have at most {pixels[kind]:,} pixels; this one has {count:,} ({width}x{height}).",
        )
    if count * bytes_per_pixel > memory:
        return (
            "decode_budget_exceeded",
            f"Decoded, this {kind} would take {count * bytes_per_pixel:,} bytes ({bytes_per_pixel} a pixel); "
            f"at most {memory:,} are allowed.",
        )
    return None
