"""Untrusted image bytes: every bad input is a clear ImageRejected, never a crash."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from recognition.engine.images import ImageRejected, decode_image

LIMIT = 40_000_000


def _encoded(fmt: str, size=(64, 48), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, (200, 120, 40) if mode == "RGB" else 128).save(buffer, format=fmt)
    return buffer.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height (a decompression bomb needs no more than this to be dangerous)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_accepted_formats_decode_to_rgb(fmt):
    image = decode_image(_encoded(fmt), max_pixels=LIMIT)
    assert image.mode == "RGB" and image.size == (64, 48)


def test_greyscale_png_becomes_rgb():
    assert decode_image(_encoded("PNG", mode="L"), max_pixels=LIMIT).mode == "RGB"


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        (b"", "empty_file", "empty"),
        (b"name,box\nalice,1 2 3 4\n", "not_an_image", "not a JPEG, PNG or WebP"),
        (b"%PDF-1.7\n", "not_an_image", "not a JPEG, PNG or WebP"),
        (_encoded("GIF"), "unsupported_type", "GIF"),
        (_encoded("BMP"), "unsupported_type", "BMP"),
        (_encoded("TIFF"), "unsupported_type", "TIFF"),
        (_png_header_only(100_000, 100_000), "too_many_pixels", "40,000,000 pixels"),
        (_png_header_only(8000, 6000), "too_many_pixels", "limit is 40,000,000"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "not_an_image", "header cannot be read"),
    ],
    ids=["zero-byte", "text", "pdf", "gif", "bmp", "tiff", "huge", "over-limit", "corrupt-jpeg-header"],
)
def test_bad_inputs_are_rejected_with_a_clear_message(data, code, words):
    with pytest.raises(ImageRejected) as caught:
        decode_image(data, max_pixels=LIMIT)
    assert caught.value.code == code
    assert words in caught.value.message


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_images_are_rejected(fmt):
    data = _encoded(fmt, size=(400, 300))
    with pytest.raises(ImageRejected) as caught:
        decode_image(data[: len(data) // 2], max_pixels=LIMIT)
    assert caught.value.code == "truncated_image"
    assert "truncated or corrupt" in caught.value.message


def test_corrupt_png_body_is_rejected():
    data = bytearray(_encoded("PNG", size=(200, 200)))
    data[60:120] = b"\x00" * 60  # damage the compressed pixel data, keep the header
    with pytest.raises(ImageRejected) as caught:
        decode_image(bytes(data), max_pixels=LIMIT)
    assert caught.value.code in {"truncated_image", "not_an_image"}


def test_truncated_images_are_rejected_even_when_pillow_is_set_to_tolerate_them(monkeypatch):
    """Some libraries (WeasyPrint) switch Pillow's process-wide LOAD_TRUNCATED_IMAGES on at import."""
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    data = _encoded("JPEG", size=(400, 300))
    with pytest.raises(ImageRejected) as caught:
        decode_image(data[: len(data) // 2], max_pixels=LIMIT)
    assert caught.value.code == "truncated_image"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # the caller's setting is restored
