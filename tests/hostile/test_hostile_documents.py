"""Hostile files through the agreement's signed-document upload (the web form, as a DPO uses it):
the image corpus, fake and broken PDFs, a page tree that points at itself, nesting deep enough to
exhaust a recursive parser, a page count that lies, and a file over the size limit. Each is a
refusal in words (never a 500), nothing is stored for it; a real PDF with a trailer after its end
is a readable PDF and is stored."""

from __future__ import annotations

import io

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from governance.agreements import services
from governance.agreements.models import Agreement
from tests.conftest import agreement_terms, signed_pdf
from tests.hostile.corpus import cases

pytestmark = pytest.mark.django_db


def _pdf(body: bytes) -> bytes:
    """A PDF whose objects are ``body``, with a trailer naming object 1 as the catalogue (no xref: pypdf rebuilds)."""
    return b"%PDF-1.7\n" + body + b"\ntrailer << /Root 1 0 R /Size 9 >>\n%%EOF\n"


def hostile_documents() -> list[tuple[str, bytes]]:
    real = signed_pdf().read()
    return [
        *[(f"image corpus: {case.name}", case.data) for case in cases()],
        ("a real PDF cut in half", real[: len(real) // 2]),
        ("a PDF header and nothing else", b"%PDF-1.7\n"),
        (
            "a page tree whose kids are itself",
            _pdf(b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [2 0 R] /Count 1 >> endobj"),
        ),
        (
            "arrays nested 50,000 deep",
            _pdf(b"1 0 obj << /Type /Catalog /Pages 2 0 R /X " + b"[" * 50_000 + b"]" * 50_000 + b" >> endobj"),
        ),
        (
            "a page count of a billion over no pages",
            _pdf(b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 1000000000 >> endobj"),
        ),
    ]  # fmt: skip


@pytest.fixture
def draft(cast):
    return services.agreement_draft(actor=cast.estate_dpo, fields=agreement_terms(cast))


def _upload(client, agreement, name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("agreement-action", args=[agreement.pk]),
        {"action": "document", "document": SimpleUploadedFile(name, data, content_type="application/pdf")},
    )


@pytest.mark.parametrize("what, data", hostile_documents(), ids=[what for what, _ in hostile_documents()])
def test_a_hostile_document_is_refused_in_words_and_nothing_is_stored(client, cast, draft, what, data):
    client.force_login(cast.estate_dpo)
    response = _upload(client, draft, "signed.pdf", data)
    assert response.status_code in (302, 400, 413), f"{what}: {response.status_code}"
    if response.status_code == 302:
        messages = [str(m) for m in get_messages(response.wsgi_request)]
        assert any(m.startswith("Signed document:") or "PDF" in m or "larger" in m for m in messages), messages
    assert not Agreement.objects.get(pk=draft.pk).signed_document, what


def test_a_document_over_the_size_limit_is_refused_before_it_is_read(client, cast, draft, settings):
    settings.OVERSIGHT_MAX_DOCUMENT_BYTES = 64 * 1024
    client.force_login(cast.estate_dpo)
    response = _upload(client, draft, "signed.pdf", signed_pdf().read() + b"\0" * (65 * 1024))
    assert response.status_code in (302, 400, 413)
    assert not Agreement.objects.get(pk=draft.pk).signed_document


def test_a_real_pdf_with_a_trailer_after_its_end_is_stored(client, cast, draft):
    client.force_login(cast.estate_dpo)
    data = signed_pdf().read() + b"PK\x03\x04" + b"\0" * 512  # a zip appended: still a PDF a reader opens
    response = _upload(client, draft, "signed.pdf", data)
    assert response.status_code == 302
    agreement = Agreement.objects.get(pk=draft.pk)
    assert agreement.signed_document and agreement.signed_document_sha256
    with agreement.signed_document.open("rb") as stored:
        assert io.BytesIO(stored.read()).getvalue() == data
