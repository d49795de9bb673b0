"""The decode budget of an uploaded image (issue 26): the size, pixels and decoded bytes are read from the header,
in pure Python, and held to the format's budget before Pillow opens the file — the probe's 1.5 KB uniform
6300x6300 lossless WebP (2.1 s of CPU and 697 MB to re-encode) is refused from its header."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from governance.imagetypes import HeaderUnreadable, image_header
from governance.watchlist.errors import ImageRefused
from governance.watchlist.validation import image_clean


def _save(image: Image.Image, fmt: str, **kwargs) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


@pytest.mark.parametrize(
    ("fmt", "mode", "size", "kwargs", "bytes_per_pixel"),
    [
        ("JPEG", "RGB", (321, 123), {}, 3),
        ("JPEG", "L", (64, 900), {}, 1),
        ("JPEG", "CMYK", (200, 100), {}, 4),
        ("JPEG", "RGB", (500, 300), {"progressive": True}, 3),
        ("PNG", "RGB", (77, 55), {}, 3),
        ("PNG", "RGBA", (300, 200), {}, 4),
        ("PNG", "I;16", (90, 40), {}, 2),
        ("PNG", "P", (50, 60), {}, 4),
        ("WEBP", "RGB", (333, 222), {"lossless": True}, 4),
        ("WEBP", "RGB", (334, 221), {"quality": 80}, 4),
        ("WEBP", "RGBA", (129, 257), {"quality": 80}, 4),
    ],
)
def test_the_header_says_what_pillow_says(fmt, mode, size, kwargs, bytes_per_pixel):
    data = _save(Image.new(mode, size), fmt, **kwargs)
    assert image_header(data) == (fmt, *size, bytes_per_pixel)


def test_a_sixteen_bit_rgba_png_counts_eight_bytes_a_pixel():
    ihdr = struct.pack(">IIBBBBB", 5000, 4000, 16, 6, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\x00" * 4
    assert image_header(data) == ("PNG", 5000, 4000, 8)


@pytest.mark.parametrize(
    "data", [b"\xff\xd8\xff\xe0\x00\x10JFIF", b"\x89PNG\r\n\x1a\n\x00\x00", b"RIFF\x00\x00\x00\x00WEBPVP8Q"]
)
def test_a_header_that_does_not_say_the_size_is_unreadable(data):
    with pytest.raises(HeaderUnreadable):
        image_header(data)


def _webp_header_only(width: int, height: int) -> bytes:
    """A lossless WebP header claiming ``width`` x ``height`` and no pixel data at all."""
    bits = (width - 1) | ((height - 1) << 14)
    body = b"\x2f" + bits.to_bytes(4, "little")
    return b"RIFF" + struct.pack("<I", 4 + 8 + len(body)) + b"WEBP" + b"VP8L" + struct.pack("<I", len(body)) + body


def test_the_probes_uniform_webp_is_refused_from_its_header():
    uniform = _save(Image.new("RGB", (6300, 6300), (128, 128, 128)), "WEBP", lossless=True)
    assert len(uniform) < 10_000
    with pytest.raises(ImageRefused) as refused:
        image_clean(uniform)
    assert refused.value.code == "too_many_pixels" and refused.value.details["format"] == "WEBP"
    # The decision is the header's: the same header with no pixel data behind it is refused the same way (a decode
    # would have called it corrupt).
    with pytest.raises(ImageRefused) as header_only:
        image_clean(_webp_header_only(6300, 6300))
    assert header_only.value.code == "too_many_pixels"
    with pytest.raises(ImageRefused) as small:
        image_clean(_webp_header_only(600, 600))
    assert small.value.code in {"not_an_image", "corrupt_image"}  # within budget: handed to Pillow, which finds nothing


def test_the_memory_budget_counts_bytes_a_pixel(settings):
    settings.OVERSIGHT_IMAGE_DECODE_MAX_BYTES = 1_000_000
    rgb = _save(Image.new("RGB", (400, 400)), "PNG")  # 480,000 bytes decoded
    assert image_clean(rgb).width == 400
    rgba16 = _save(Image.new("RGB", (400, 400)), "PNG")
    # The same pixels declared 16-bit RGBA in the header: 1,280,000 bytes decoded.
    rgba16 = rgba16[:24] + bytes([16, 6]) + rgba16[26:]
    with pytest.raises(ImageRefused) as refused:
        image_clean(rgba16)
    assert refused.value.code == "decode_budget_exceeded" and refused.value.details["bytes_per_pixel"] == 8


def test_each_format_has_its_own_pixel_budget(settings):
    settings.OVERSIGHT_IMAGE_DECODE_PIXELS = {"JPEG": 10_000_000, "PNG": 10_000_000, "WEBP": 100_000}
    picture = Image.new("RGB", (400, 400), (90, 120, 150))
    assert image_clean(_save(picture, "JPEG")).format == "JPEG"
    assert image_clean(_save(picture, "PNG")).format == "PNG"
    with pytest.raises(ImageRefused) as webp:
        image_clean(_save(picture, "WEBP"))
    assert webp.value.code == "too_many_pixels"
