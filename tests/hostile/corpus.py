"""A corpus of hostile image files, generated (nothing binary is committed).

    python -m tests.hostile.corpus OUTDIR      # writes every file, with its expectation, to OUTDIR

Each case says what Oversight must do with it: ``accept`` (re-encoded to clean pixels),
``refuse`` (a coded 4xx) or ``either`` (a lawful file of a kind that may be taken or refused, but
never a 500). The tests (``test_hostile_uploads.py``) send every case through every upload path.
"""

from __future__ import annotations

import io
import random
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

TRAILER = b"PK\x03\x04<html><script>alert('polyglot')</script></html>"
EXIF_MARKER = "HostileCam-GPS"
COMMENT_MARKER = b"Photographed by DC Example at 12 Acacia Avenue"


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    expect: str  # accept | refuse | either
    why: str


def _noise(size=(200, 200), seed=1, mode="RGB") -> Image.Image:
    rng = random.Random(seed)
    image = Image.frombytes("RGB", size, bytes(rng.randrange(256) for _ in range(size[0] * size[1] * 3)))
    return image if mode == "RGB" else image.convert(mode)


def _save(image: Image.Image, fmt: str, **kwargs) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_of_uniform_rows(width: int, height: int, *, colour_type: int = 2, channels: int = 3) -> bytes:
    """A valid PNG of one colour, compressed row by row: tiny file, huge pixel count."""
    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\x80" * (width * channels)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) claims other dimensions."""
    data = bytearray(_save(_noise((64, 64)), "JPEG"))
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def _scan_bomb(width: int, height: int, extra_scans: int) -> bytes:
    """A progressive JPEG of one colour with its last scan repeated: each scan is a decoding pass over
    every block, so a few dozen kilobytes cost seconds of CPU while the pixel count stays lawful."""
    data = _save(Image.new("RGB", (width, height), (120, 120, 120)), "JPEG", progressive=True, quality=50)
    last = data.rindex(b"\xff\xda")
    end = data.rindex(b"\xff\xd9")
    return data[:end] + data[last:end] * extra_scans + data[end:]


def _exif_gps_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = EXIF_MARKER  # Make
    exif[0x8825] = {1: "N", 2: (51.0, 32.0, 1.0), 3: "W", 4: (0.0, 7.0, 30.0)}
    return _save(_noise(seed=3), "JPEG", exif=exif.tobytes())


def _with_comment(jpeg: bytes, comment: bytes) -> bytes:
    """A COM segment right after the start-of-image marker."""
    return jpeg[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + jpeg[2:]


def _animated(fmt: str) -> bytes:
    frames = [_noise(seed=s) for s in (4, 5, 6)]
    out = io.BytesIO()
    frames[0].save(out, format=fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


def cases() -> list[Case]:
    jpeg = _save(_noise(seed=2), "JPEG")
    png = _save(_noise(seed=2), "PNG")
    return [
        Case("empty.jpg", b"", "refuse", "nothing at all"),
        Case("random.bin", random.Random(9).randbytes(4096), "refuse", "noise, no image signature"),
        Case("truncated.jpg", jpeg[: len(jpeg) // 2], "refuse", "JPEG cut in half"),
        Case("truncated.png", png[: len(png) // 2], "refuse", "PNG cut in half"),
        Case("header-only.png", png[:33], "refuse", "signature and IHDR, no data"),
        Case(
            "bomb-10000x10000.png",
            _png_of_uniform_rows(10000, 10000, colour_type=0, channels=1),
            "refuse",
            "decompression bomb: 100 MP in ~100 KB",
        ),
        Case(
            "tiny-file-6000x6000.png",
            _png_of_uniform_rows(6000, 6000),
            "either",
            "36 MP of one colour in ~120 KB, under the pixel limit",
        ),
        Case(
            "scan-bomb-2000x2000.jpg",
            _scan_bomb(2000, 2000, 1000),
            "refuse",
            "progressive JPEG with 1,000 repeated scans: ~40 KB, seconds of CPU to decode",
        ),
        Case("claims-65000x65000.jpg", _jpeg_claiming(65000, 65000), "refuse", "JPEG header lies about its size"),
        Case("claims-1x1.jpg", _jpeg_claiming(1, 1), "refuse", "JPEG header claims a single pixel"),
        Case("polyglot.jpg", jpeg + TRAILER, "accept", "JPEG with a ZIP/HTML trailer (a polyglot)"),
        Case("polyglot.png", png + TRAILER, "accept", "PNG with a ZIP/HTML trailer"),
        Case(
            "script.svg",
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="200" height="200">'
            b"<script>alert(1)</script><rect width='200' height='200'/></svg>",
            "refuse",
            "SVG with a script",
        ),
        Case("photo.heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200, "refuse", "HEIC"),
        Case(
            "comment.jpg",
            _with_comment(_save(_noise(seed=11), "JPEG"), COMMENT_MARKER),
            "accept",
            "JPEG with a comment segment naming someone",
        ),
        Case("cmyk.jpg", _save(_noise(seed=7, mode="CMYK"), "JPEG"), "accept", "CMYK JPEG"),
        Case("exif-gps.jpg", _exif_gps_jpeg(), "accept", "JPEG with EXIF GPS and camera make"),
        Case("animated.gif", _animated("GIF"), "refuse", "animated GIF (not an accepted type)"),
        Case("animated.png", _animated("PNG"), "either", "animated PNG (APNG)"),
        Case("animated.webp", _animated("WEBP"), "either", "animated WebP"),
        Case("sixteen-bit.png", _save(_noise(seed=8).convert("I;16"), "PNG"), "either", "16-bit greyscale PNG"),
        Case(
            "palette-alpha.png",
            _save(_noise(seed=9).convert("P"), "PNG", transparency=0),
            "accept",
            "palette PNG with transparency",
        ),
        Case("pdf-named.jpg", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "refuse", "a PDF named .jpg"),
        Case("html-named.png", b"<html><script>alert(1)</script></html>", "refuse", "HTML named .png"),
    ]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "EXPECTATIONS.txt", "w", encoding="utf-8") as index:
        for case in cases():
            (out / case.name).write_bytes(case.data)
            index.write(f"{case.name}\t{case.expect}\t{len(case.data)} bytes\t{case.why}\n")
    print(f"Wrote {len(cases())} files to {out}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
