"""The input-cleaning layer (issue 26, governance.inputs): each finding of the probe, reproduced."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from governance.errors import NotFound, ValidationFailed
from governance.inputs import is_id, meaningful_justification, parse_int
from tests.recognition.deployments.conftest import people  # noqa: F401 (fixtures)
from tests.recognition.deployments.test_supply_scope import btp_agreement, two  # noqa: F401


@pytest.mark.parametrize("text", ["²", "١٢", "1" * 30, "", " ", "1.5", "+1", "0x10", "1\x00"])
def test_numbers_are_ascii_digits_within_range(text):
    with pytest.raises(ValidationFailed):
        parse_int(text, "n", minimum=1, maximum=10**18)
    assert not is_id(text)


def test_a_number_out_of_range_is_refused_with_its_bounds():
    assert parse_int("24", "months", maximum=24) == 24
    with pytest.raises(ValidationFailed) as refused:
        parse_int("25", "months", maximum=24)
    assert refused.value.code == "number_out_of_range"


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("x" * 10, False),
        ("ab" * 8, False),
        (".........." * 2, False),
        ("aaaaaaaaab cdef", False),
        ("short", False),
        ("Investigating a complaint from the subject", True),
        ("Route matrix: who reads what.", True),
    ],
)
def test_a_justification_has_a_meaningful_minimum(text, ok):
    assert meaningful_justification(text) is ok


pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:
    # With a purpose (s.62, issue 22), so a page that shows personal data answers rather than asking why.
    client = Client(raise_request_exception=False, HTTP_X_OVERSIGHT_PURPOSE="Checking input handling")
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", ["/agreements/", "/watchlist/", "/subject-requests/", "/dpias/"])
def test_a_nul_in_a_query_string_is_a_coded_400(cast, path):
    response = _signed_in(cast.estate_dpo).get(path, {"q": "a\x00b", "status": "\x00"})
    assert response.status_code == 400 and b"control_character" in response.content


def test_a_nul_in_a_form_field_is_a_coded_400_and_nothing_is_stored(cast):
    from governance.audit.models import AuditEvent

    before = AuditEvent.objects.count()
    response = _signed_in(cast.estate_dpo).post(
        reverse("report-principle-commentary"), {"principle": "6", "text": "Reviewed\x00 monthly."}
    )
    assert response.status_code == 400 and b"control_character" in response.content
    assert AuditEvent.objects.count() == before


def test_an_api_query_with_a_control_character_is_the_apis_coded_400(cast):
    response = _signed_in(cast.estate_dpo).get("/api/v1/agreements/", {"search": "\x1b"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_filter"


def test_superscript_digits_on_the_watchlist_filter_are_not_a_500(cast):
    assert _signed_in(cast.estate_dpo).get("/watchlist/", {"agreement": "²"}).status_code == 200


@pytest.mark.parametrize("header", ["Token \xff\xfeabc", "Token abc\x00def", "Token é"])
def test_a_token_header_of_bytes_is_401_never_500(db, header):
    response = Client(raise_request_exception=False).get("/api/v1/agreements/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401


def test_a_30_digit_id_or_limit_is_not_a_500(cast):
    client = _signed_in(cast.estate_dpo)
    assert client.get(f"/agreements/{'9' * 30}/").status_code == 404
    assert client.get("/api/v1/agreements/", {"limit": "9" * 30}).status_code == 400
    assert client.get("/api/v1/agreements/", {"offset": "9" * 30}).status_code == 400
    assert client.get("/api/v1/agreements/", {"limit": "²"}).status_code == 400


def _sar(actor):
    from governance.subject_access import services

    return services.subject_request_receive(
        actor=actor,
        fields={
            "regime": "uk_gdpr",
            "right": "access",
            "requester_name": "Inputs Requester",
            "requester_contact": "inputs@example.org",
            "request_text": "Everything you hold about me.",
            "subject_references": ["BTP-W-0001"],
            "received_on": timezone.localdate() - timedelta(days=2),
            "identity_verified_how": "Passport seen.",
            "identity_verified_by_name": "Dana Okafor",
        },
    )


def test_a_subject_request_item_is_checked_through_the_access_layer_and_must_parse(cast, two):  # noqa: F811
    from governance.subject_access import services
    from governance.subject_access.models import SubjectRequestItem

    sar = _sar(cast.btp_dpo)
    with pytest.raises(NotFound):  # the Met's alert, on the deployment both forces supply
        services.subject_request_decide(
            actor=cast.btp_dpo, request=sar, decisions=[(f"alert:{two.camden_alert.pk}", "confirmed", "")]
        )
    for malformed in ("alert:\x00", "alert:1 2", "alert:<b>", ":1", "alert:"):
        with pytest.raises(ValidationFailed):
            services.subject_request_decide(actor=cast.btp_dpo, request=sar, decisions=[(malformed, "confirmed", "")])
    assert not SubjectRequestItem.objects.filter(request=sar).exists()
    [item] = services.subject_request_decide(
        actor=cast.btp_dpo, request=sar, decisions=[(f"alert:{two.btp_alert.pk}", "confirmed", "")]
    )
    assert item.ref == f"alert:{two.btp_alert.pk}"


def test_the_photo_search_shows_a_refused_image_as_a_message(cast):
    from django.core.files.uploadedfile import SimpleUploadedFile

    sar = _sar(cast.estate_dpo)
    bomb = SimpleUploadedFile("bomb.png", _png_bomb(), content_type="image/png")
    response = _signed_in(cast.estate_dpo).post(
        reverse("subject-request-search", args=[sar.pk]),
        {"justification": "Searching for the requester's photo.", "photo": bomb},
    )
    assert response.status_code == 400


def _png_bomb() -> bytes:
    """A PNG whose header claims 60000 × 60000 pixels (a decompression bomb by its header)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("body", [b'{"notes": "a\\u0000b"}', b'{"a\\u001b": 1}', b'{"items": [{"x": "\\u007f"}]}'])
def test_an_api_json_body_with_a_control_character_is_refused(body):
    import io

    from rest_framework.exceptions import ParseError

    from governance.api.parsers import BoundedJSONParser

    with pytest.raises(ParseError, match="control characters"):
        BoundedJSONParser().parse(io.BytesIO(body), parser_context={})
    assert BoundedJSONParser().parse(io.BytesIO(b'{"notes": "line\\nnext\\ttab"}'), parser_context={})


def test_a_content_length_of_superscript_digits_is_a_400(db):
    client = Client(raise_request_exception=False)
    assert client.get("/health/live/", CONTENT_LENGTH="²").status_code == 400
    assert client.get("/api/v1/agreements/", CONTENT_LENGTH="²").json()["error"]["code"] == "invalid_content_length"


def test_a_username_longer_than_any_account_is_a_failed_sign_in_not_a_500(db):
    """On PostgreSQL django-axes stored it in a 255-character column: a 500."""
    from axes.models import AccessAttempt

    client = Client(raise_request_exception=False)
    response = client.post(reverse("login"), {"username": "x" * 2000, "password": "guess"})
    assert response.status_code == 200
    assert not AccessAttempt.objects.filter(username__startswith="xxxx").exists()
