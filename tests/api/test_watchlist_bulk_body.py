"""The bulk upload's body: bounded in size before it is parsed, and refused (not crashed on) when it
nests deeper than any real request could."""

from __future__ import annotations

import base64
import json

import pytest

from governance.watchlist.models import WatchlistImage
from tests.governance.watchlist.support import (
    error_code,
    provenance_fields,
    synthetic_jpeg,
)

pytestmark = pytest.mark.django_db

BULK = "/api/v1/watchlist-images/bulk/"


def _post_raw(client, body: bytes):
    return client.generic("POST", BULK, body, content_type="application/json")


def _items(agreement, *seeds) -> dict:
    items = []
    for seed in seeds:
        item = provenance_fields(agreement, subject_reference=f"BODY-{seed}")
        item["image_base64"] = base64.b64encode(synthetic_jpeg(seed)).decode()
        items.append(item)
    return {"items": items}


@pytest.mark.parametrize("depth", [2_000, 200_000])
def test_a_deeply_nested_body_is_a_coded_400(camden_api, active_agreement, depth):
    body = b'{"items": [' + b"[" * depth + b"]" * depth + b"]}"
    response = _post_raw(camden_api, body)
    assert response.status_code == 400, response.content[:300]
    assert error_code(response) == "json_too_deep"
    assert not WatchlistImage.objects.exists()


def test_nesting_inside_an_item_is_refused_too(camden_api, active_agreement):
    """Deep enough to get past the parser's own recursion limit but not past ours."""
    payload = _items(active_agreement, 1)
    nested: list = []
    for _ in range(200):
        nested = [nested]
    payload["items"][0]["notes"] = nested
    response = _post_raw(camden_api, json.dumps(payload).encode())
    assert response.status_code == 400 and error_code(response) == "json_too_deep"
    assert not WatchlistImage.objects.exists()


def test_a_body_over_the_limit_is_413_before_it_is_parsed(camden_api, active_agreement, settings):
    settings.OVERSIGHT_WATCHLIST_BULK_MAX_BYTES = 50_000
    # Not even JSON: a 413 (not a parse error) shows the size was refused before parsing.
    response = _post_raw(camden_api, b"x" * 50_001)
    assert response.status_code == 413, response.content[:300]
    assert error_code(response) == "body_too_large"
    assert response.json()["error"]["details"] == {"limit_bytes": 50_000}
    valid_but_large = json.dumps(_items(active_agreement, *range(2, 8))).encode()
    assert len(valid_but_large) > 50_000
    assert _post_raw(camden_api, valid_but_large).status_code == 413
    assert not WatchlistImage.objects.exists()
    # Under the limit the same endpoint works as before.
    small = json.dumps(_items(active_agreement, 9)).encode()
    assert len(small) <= 50_000
    accepted = _post_raw(camden_api, small)
    assert accepted.status_code == 202 and accepted.json()["accepted"] == 1


def test_the_default_limit_refuses_a_body_of_hundreds_of_megabytes(camden_api, active_agreement, settings):
    limit = settings.OVERSIGHT_WATCHLIST_BULK_MAX_BYTES
    assert 0 < limit < 126 * 1024 * 1024
    body = b'{"items": [' + b" " * limit + b"]}"
    response = _post_raw(camden_api, body)
    assert response.status_code == 413 and error_code(response) == "body_too_large"


def test_the_size_is_also_counted_while_the_body_streams_in(settings):
    """Where no trustworthy Content-Length is declared, reading stops one chunk past the limit."""
    import io

    from governance.api.parsers import BulkJSONParser, RequestBodyTooLarge

    settings.OVERSIGHT_WATCHLIST_BULK_MAX_BYTES = 100_000
    stream = io.BytesIO(b"[" + b" " * 10_000_000 + b"]")
    with pytest.raises(RequestBodyTooLarge):
        BulkJSONParser().parse(stream, "application/json", {})
    assert stream.tell() <= 100_000 + 64 * 1024
    assert BulkJSONParser().parse(io.BytesIO(b'{"items": []}'), "application/json", {}) == {"items": []}
