"""Deletion certificates as PDF (WeasyPrint)."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from governance.pdf import render_pdf
from governance.retention.certificate import certificates_evidence


def certificates_render_pdf(*, certificates: list, title: str, run=None) -> bytes:
    html = render_to_string(
        "retention/certificates_pdf.html",
        {
            "certificates": certificates_evidence(certificates),
            "title": title,
            "run": run,
            "generated_at": timezone.now(),
        },
    )
    return render_pdf(html)
