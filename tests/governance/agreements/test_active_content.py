"""Signed documents carry no active content (issue 26): a PDF with an ``/OpenAction /JavaScript``
action and a PDF+HTML polyglot were accepted and served to every party, and a replaced document
stayed on disk."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

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


def _written(change) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _open_action_javascript(writer):
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    action = DictionaryObject(
        {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert(1)")}
    )
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)


def _launch_on_page_open(writer):
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    launch = DictionaryObject({NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc.exe")})
    writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): writer._add_object(launch)})


def _embedded_file(writer):
    writer.add_attachment("payload.exe", b"MZ\x90\x00")


HOSTILE = {
    "open action javascript": lambda: _written(_open_action_javascript),
    "launch on page open": lambda: _written(_launch_on_page_open),
    "embedded file": lambda: _written(_embedded_file),
    "escaped name /J#61vaScript": lambda: (
        _written(_open_action_javascript).replace(b"/JavaScript", b"/J#61vaScript").replace(b"/JS ", b"/J#53 ")
    ),
    "html polyglot": lambda: (
        signed_pdf().read() + b"\n<html><body><script>fetch('/api/v1/agreements/')</script></body></html>\n"
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_signed_document_with_active_content_is_refused_and_nothing_is_stored(cast, draft, name):
    with pytest.raises(ValidationFailed) as refused:
        _attach(cast, draft, HOSTILE[name]())
    assert refused.value.code == "pdf_active_content"
    draft.refresh_from_db()
    assert not draft.signed_document


def test_a_plain_document_and_an_agreement_rendered_by_oversight_are_accepted(cast, draft):
    from governance.agreements.documents import agreement_render_pdf

    _attach(cast, draft, signed_pdf().read())
    agreement = _attach(cast, draft, agreement_render_pdf(agreement=draft))
    assert agreement.signed_document


def test_the_replaced_document_is_erased_from_storage(
    cast, draft, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        first = _attach(cast, draft, signed_pdf().read()).signed_document.name
    assert default_storage.exists(first)
    with django_capture_on_commit_callbacks(execute=True):
        second = _attach(cast, Agreement.objects.get(pk=draft.pk), signed_pdf().read()).signed_document.name
    assert second != first
    assert default_storage.exists(second) and not default_storage.exists(first)


def test_the_signed_document_is_served_as_an_attachment_in_a_sandbox(cast, draft, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    _attach(cast, draft, signed_pdf().read())
    client = Client()
    client.force_login(cast.estate_dpo)
    response = client.get(reverse("agreement-document", args=[draft.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
