"""Which image type a file is, from its leading bytes: the one place both upload checking and the engine ask.

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
