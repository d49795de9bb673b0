"""The agreement as a printable PDF (WeasyPrint), for signature and for the register."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from governance.agreements.models import Agreement
from governance.pdf import render_pdf


def agreement_render_pdf(*, agreement: Agreement) -> bytes:
    html = render_to_string("governance/agreement_pdf.html", {"agreement": agreement, "generated_at": timezone.now()})
    return render_pdf(html)
