"""PDF rendering must not loosen image decoding for the rest of the process."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from governance.pdf import render_pdf
from recognition.engine import ImageRejected, decode_image


def test_pdf_is_rendered_and_truncated_images_stay_refused_afterwards():
    assert render_pdf("<p>Deletion certificate</p>").startswith(b"%PDF-")
    out = io.BytesIO()
    Image.new("RGB", (200, 200), (120, 30, 200)).save(out, format="JPEG")
    truncated = out.getvalue()[: len(out.getvalue()) // 2]
    with pytest.raises(ImageRejected):
        decode_image(truncated, max_pixels=10_000_000)
