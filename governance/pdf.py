"""PDF rendering with WeasyPrint, and checking an uploaded PDF with pypdf, in one place.

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


class UnreadablePdf(Exception):
    """The bytes are not a PDF a reader can open; ``code`` says why (``not_a_pdf``, ``pdf_password_protected``)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def pdf_page_count(stream) -> int:
    """Open ``stream`` (a binary file, read from where it is) as a PDF and count its pages; raise
    ``UnreadablePdf`` unless it is a PDF with at least one page that opens without a password.

    pypdf parses the cross-reference table, trailer, catalogue and page tree, which a few bytes that
    merely start with "%PDF-" do not have. Content streams are not decompressed. pypdf raises its own
    errors for most malformed files but plain ones (ValueError, KeyError, RecursionError, ...) for some,
    and any of them means the same to the uploader: not a readable PDF.
    """
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError

    try:
        reader = PdfReader(stream)
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadablePdf("pdf_password_protected")
        pages = len(reader.pages)
    except UnreadablePdf:
        raise
    except FileNotDecryptedError:
        raise UnreadablePdf("pdf_password_protected") from None
    except Exception as error:  # see the docstring: every parser failure is a refusal
        raise UnreadablePdf("not_a_pdf") from error
    if pages < 1:
        raise UnreadablePdf("not_a_pdf")
    return pages
