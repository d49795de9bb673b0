"""PDF rendering with WeasyPrint, in one place.

WeasyPrint sets Pillow's process-wide ``ImageFile.LOAD_TRUNCATED_IMAGES = True`` when imported, which
would let a truncated upload or camera frame decode "successfully" with padding everywhere else in
the process. We put Pillow's strict default back straight after the import.
"""

from __future__ import annotations


def render_pdf(html: str) -> bytes:
    from PIL import ImageFile

    strict = ImageFile.LOAD_TRUNCATED_IMAGES
    from weasyprint import HTML  # imported lazily: it loads Pango, which most processes never need

    ImageFile.LOAD_TRUNCATED_IMAGES = strict
    return HTML(string=html).write_pdf()
