"""The agreement as a printable PDF (WeasyPrint), for signature and for the register; and the signed
copy checked for active content before the register keeps it."""

from __future__ import annotations

import io
import re

from django.template.loader import render_to_string
from django.utils import timezone

from governance.agreements.models import Agreement
from governance.errors import ValidationFailed
from governance.pdf import render_pdf


def agreement_render_pdf(*, agreement: Agreement) -> bytes:
    from governance.agreements.rules import agreement_made_under_dpa1998

    html = render_to_string(
        "governance/agreement_pdf.html",
        {
            "agreement": agreement,
            "generated_at": timezone.now(),
            "under_dpa1998": agreement_made_under_dpa1998(agreement),
        },
    )
    return render_pdf(html)


# --- signed documents: no active content (issue 26) ------------------------------------------------

# A signed agreement is read by every party and the regulator: it must be a document, not a program.
# Keys that make a PDF act when opened or clicked (scripts, launching programs, carried files,
# forms that submit, multimedia), wherever they sit in the object graph.
ACTIVE_KEYS = frozenset(
    {"/JS", "/JavaScript", "/AA", "/Launch", "/EmbeddedFiles", "/EmbeddedFile", "/RichMedia", "/XFA", "/SubmitForm"}
)
# Action types (``/S``) that run something or send something.
ACTIVE_ACTIONS = frozenset(
    {"/JavaScript", "/Launch", "/ImportData", "/SubmitForm", "/ResetForm", "/Rendition", "/RichMediaExecute", "/GoToE"}
)
# The same names in the raw bytes (with ``#xx`` escapes decoded): objects no cross-reference table
# lists are still read by some readers' repair.
RAW_ACTIVE = re.compile(rb"/(?:JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA|AA)(?![A-Za-z0-9])")
# A file that is also an HTML page (a polyglot) — served inline by mistake it would run as one.
HTML_MARKERS = re.compile(rb"<\s*(?:!doctype|html|head|body|script|iframe|svg|object|embed)\b", re.IGNORECASE)
MAX_OBJECTS = 200_000
PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


def _raw_findings(data: bytes) -> list[str]:
    found = []
    decoded = PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), data)
    for match in RAW_ACTIVE.finditer(decoded):
        found.append(match.group().decode("latin-1"))
    if HTML_MARKERS.search(data):
        found.append("HTML")
    return found


def _graph_findings(data: bytes) -> list[str]:
    from pypdf import PdfReader
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    found: list[str] = []
    reader = PdfReader(io.BytesIO(data))
    stack = [reader.trailer]
    seen: set[tuple[int, int]] = set()
    visited = 0
    while stack and visited < MAX_OBJECTS:
        obj = stack.pop()
        visited += 1
        if isinstance(obj, IndirectObject):
            key = (obj.idnum, obj.generation)
            if key in seen:
                continue
            seen.add(key)
            try:
                obj = obj.get_object()
            except Exception:  # noqa: BLE001 — a dangling reference is no action
                continue
        if isinstance(obj, DictionaryObject):
            for name, value in obj.items():
                if name in ACTIVE_KEYS:
                    found.append(str(name))
                elif name == "/S" and str(value) in ACTIVE_ACTIONS:
                    found.append(str(value))
                elif name == "/OpenAction" and not isinstance(value, ArrayObject):
                    action = value.get_object() if isinstance(value, IndirectObject) else value
                    if isinstance(action, DictionaryObject) and action.get("/S") != "/GoTo":
                        found.append("/OpenAction")
                stack.append(value)
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
    if stack:
        found.append("too many objects")
    return found


def signed_document_refuse_active_content(document) -> None:
    """Refuse (``ValidationFailed``, ``pdf_active_content``) a signed document that carries active
    content: JavaScript, an opening or additional action (``/OpenAction`` other than "go to a page",
    ``/AA``), a launch action, embedded files, multimedia, XFA forms — or that is also an HTML page
    (a polyglot). Read from the start of ``document``; its position is restored."""
    position = document.tell()
    document.seek(0)
    data = document.read()
    document.seek(position)
    try:
        findings = _raw_findings(data) + _graph_findings(data)
    except Exception:  # noqa: BLE001 — unreadable was already refused; anything pypdf chokes on here is refused too
        findings = ["unreadable structure"]
    if findings:
        raise ValidationFailed(
            "The signed document contains active content (scripts, actions, embedded files or HTML), which "
            "the register does not accept. Print it to PDF again, without them, and attach that copy.",
            code="pdf_active_content",
            details={"found": sorted(set(findings))[:10]},
        )


def signed_document_erase(name: str) -> None:
    """Erase a replaced signed document from storage (called after the replacing transaction commits)."""
    from django.core.files.storage import default_storage

    if name and default_storage.exists(name):
        default_storage.delete(name)
