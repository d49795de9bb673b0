"""The agreement as a printable PDF (WeasyPrint), for signature and for the register."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from governance.agreements.models import Agreement


def agreement_render_pdf(*, agreement: Agreement) -> bytes:
    from weasyprint import HTML  # imported lazily: it loads Pango, which the web process rarely needs

    html = render_to_string("governance/agreement_pdf.html", {"agreement": agreement, "generated_at": timezone.now()})
    return HTML(string=html).write_pdf()
