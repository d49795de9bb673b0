"""An agreement recorded retrospectively from before 25 May 2018 states the law of its time (DPA 1998) and
no modern safeguards, on its page and in its PDF; a current agreement keeps today's law (issue 25)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from governance.agreements import services
from governance.agreements.documents import agreement_render_pdf
from governance.agreements.models import AgreementStatus
from governance.agreements.rules import agreement_made_under_dpa1998
from tests.conftest import agreement_terms

pytestmark = pytest.mark.django_db


def pdf_text(agreement) -> str:
    reader = PdfReader(io.BytesIO(agreement_render_pdf(agreement=agreement)))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def test_a_2016_record_cites_the_dpa_1998_and_no_modern_safeguards(cast):
    fields = agreement_terms(cast) | {
        "starts_on": date(2016, 5, 1),
        "ends_on": date(2018, 3, 31),
        "review_on": date(2017, 5, 1),
    }
    old = services.agreement_record_historical(
        actor=None,
        fields=fields,
        status=AgreementStatus.EXPIRED,
        approving_organisation=cast.camden,
        approved_by_name="Camden Borough Command",
        historical_notes="Recorded from the public account.",
    )
    current = services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast))
    assert agreement_made_under_dpa1998(old) and not agreement_made_under_dpa1998(current)
    client = Client()
    client.force_login(cast.estate_dpo)
    page = client.get(reverse("agreement-detail", args=[old.pk])).content.decode()
    assert 'id="law-of-its-time"' in page and "Data Protection Act 1998" in page
    assert "non-match data deleted immediately" not in page and 'id="operator-legal-basis"' not in page
    text = pdf_text(old)
    assert "Data Protection Act 1998" in text and "Non-match biometric data: deleted immediately" not in text
    current_text = pdf_text(current)
    assert "Data Protection Act 1998" not in current_text and "deleted immediately" in current_text
