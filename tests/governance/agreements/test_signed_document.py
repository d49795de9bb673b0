"""The signed agreement must be a PDF that a PDF reader opens (pypdf), within the size limit: a few
bytes starting "%PDF-" were accepted as the signed copy."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from governance.agreements import services
from governance.agreements.models import Agreement
from governance.errors import ValidationFailed
from tests.conftest import agreement_terms, signed_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(cast):
    return services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast))


def _attach(cast, agreement, data: bytes):
    return services.agreement_attach_signed_document(
        actor=cast.estate_dpo,
        agreement=agreement,
        document=SimpleUploadedFile("signed.pdf", data, content_type="application/pdf"),
    )


def _encrypted_pdf(user_password: str) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.encrypt(user_password=user_password, owner_password="owner-secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n%%EOF\n",  # the 13-byte fake (and its kin)
        b"%PDF-1.7\n" + b"\x00" * 2000 + b"\n%%EOF\n",
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\nstartxref\n9\n%%EOF\n",
    ],
)
def test_a_fake_pdf_is_refused(cast, draft, data):
    with pytest.raises(ValidationFailed) as refused:
        _attach(cast, draft, data)
    assert refused.value.code == "not_a_pdf"
    assert not Agreement.objects.get(pk=draft.pk).signed_document


def test_a_pdf_that_needs_a_password_to_open_is_refused(cast, draft):
    with pytest.raises(ValidationFailed) as refused:
        _attach(cast, draft, _encrypted_pdf("user-secret"))
    assert refused.value.code == "pdf_password_protected"


def test_a_real_pdf_is_accepted(cast, draft):
    agreement = _attach(cast, draft, signed_pdf().read())
    assert agreement.signed_document and len(agreement.signed_document_sha256) == 64


def test_the_agreements_own_printed_pdf_is_accepted(cast, draft):
    from governance.agreements.documents import agreement_render_pdf

    assert _attach(cast, draft, agreement_render_pdf(agreement=draft)).signed_document


def test_a_pdf_restricted_only_by_an_owner_password_is_accepted(cast, draft):
    assert _attach(cast, draft, _encrypted_pdf("")).signed_document


def test_a_pdf_over_the_size_limit_is_refused(cast, draft, settings):
    data = signed_pdf().read()
    settings.OVERSIGHT_MAX_DOCUMENT_BYTES = len(data) - 1
    with pytest.raises(ValidationFailed) as refused:
        _attach(cast, draft, data)
    assert refused.value.code == "file_too_large"


def test_the_web_form_shows_the_refusal(client, cast, draft):
    client.force_login(cast.estate_dpo)
    response = client.post(
        f"/agreements/{draft.pk}/action/",
        {
            "action": "document",
            "document": SimpleUploadedFile("signed.pdf", b"%PDF-1.4\n%%EOF\n"),
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "must be a PDF that opens in a PDF reader" in response.content.decode()
    assert not Agreement.objects.get(pk=draft.pk).signed_document
