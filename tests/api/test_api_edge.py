"""The API's edge: JSON errors only (also for unknown URLs and outages), a rate limit on every
endpoint, no justification in a URL, docs and schema behind sign-in in production, the CSP."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver

from recognition.deployments.api import FrameUploadApi
from tests.conftest import require
from tests.recognition.deployments.conftest import live_deployment, planned_deployment  # noqa: F401 - fixtures
from tests.recognition.deployments.test_frames_api import (
    camera_client,
    post_frame,
    small_jpeg,
)

pytestmark = pytest.mark.django_db


def api_views():
    """(route, view class) of every API URL the resolver knows."""
    found = []

    def walk(patterns, prefix=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/"):
                view = pattern.callback
                cls = getattr(view, "cls", None) or getattr(view, "view_class", None)
                found.append((route, cls))

    walk(get_resolver().url_patterns)
    return found


# Shedding per camera replaces the per-token limit on the frame endpoint (a camera posts steadily and
# is answered 429 when its frames pile up; see recognition/deployments/ingest.py).
THROTTLE_EXEMPT = {FrameUploadApi}


def test_every_api_endpoint_is_rate_limited():
    views = api_views()
    assert len(views) >= 10
    for route, cls in views:
        assert cls is not None, f"{route} is not a DRF view"
        if cls in THROTTLE_EXEMPT:
            continue
        assert cls().get_throttles(), f"{route} ({cls.__name__}) has no rate limit"


def test_the_rate_limit_answers_429_in_json(camden_api, settings):
    settings.OVERSIGHT_API_RATE_LIMIT = "3/minute"
    statuses = [camden_api.get("/api/v1/agreements/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = camden_api.get("/api/v1/agreements/")
    assert response.json()["error"]["code"] == "throttled" and int(response["Retry-After"]) >= 1


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_api_urls_answer_json_not_django_pages(client, settings, debug):
    settings.DEBUG = debug
    for url in ("/api/v1/no-such-thing/", "/api/v2/", "/api/v1/agreements/not-a-number/"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/json"
        assert response.json()["error"]["code"] == "not_found"


def test_a_justification_in_the_query_string_is_refused(camden_api):
    response = camden_api.get("/api/v1/watchlist-images/1/image/?justification=Briefing+on+J.+Smith")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "reason_in_query_string"
    response = camden_api.delete("/api/v1/watchlist-images/1/?Reason=wrong+person")
    assert response.status_code == 400 and response.json()["error"]["details"] == {"parameters": ["Reason"]}


@pytest.mark.django_db(transaction=True)
def test_a_camera_gets_503_not_500_while_postgresql_is_unreachable(cast, live_deployment):  # noqa: F811
    client = camera_client(cast, live_deployment.camera)
    original = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["PORT"] = "1"  # nothing listens there: a real refused connection
    try:
        response = post_frame(client, live_deployment.camera, small_jpeg())
    finally:
        connection.close()
        connection.settings_dict.update(original)
    require(
        original["ENGINE"] == "django.db.backends.postgresql",
        "SQLite has no server to lose (set DATABASE_URL to run this on PostgreSQL)",
    )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable" and response["Retry-After"]


def test_a_camera_gets_503_not_500_while_the_frame_store_redis_is_down(cast, live_deployment, settings):  # noqa: F811
    settings.OVERSIGHT_FRAME_STORE_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    client = camera_client(cast, live_deployment.camera)
    response = post_frame(client, live_deployment.camera, small_jpeg())
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "matching_unavailable"


def test_pages_carry_a_csp_without_unsafe_inline(client, cast):
    client.force_login(cast.estate_dpo)
    for url in ("/", "/sign-in/", "/audit/", "/api/v1/docs/"):
        policy = client.get(url)["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy, url
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, url


def test_no_template_served_to_browsers_has_inline_script_or_style():
    """PDF templates (``*_pdf.html`` and the shared page style under ``templates/pdf/``) are rendered by
    WeasyPrint on the server, never served as HTML."""
    offenders = []
    for path in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        if path.name.endswith("_pdf.html") or path.parent.name == "pdf":
            continue
        text = path.read_text()
        text = re.sub(r"\{#.*?#\}", "", text)
        if (
            re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text)
            or re.search(r"<style\b", text)
            or re.search(r"\sstyle=", text)
            or re.search(r"\son[a-z]+=", text)
        ):
            offenders.append(str(path.relative_to(settings.BASE_DIR)))
    assert offenders == []


def test_production_keeps_the_api_docs_and_schema_behind_sign_in():
    """A separate process, because production mode is read when settings load."""
    code = """
import django, os
django.setup()
from django.test import Client
c = Client()
docs = c.get('/api/v1/docs/', secure=True)
schema = c.get('/api/v1/schema/', secure=True)
print(docs.status_code, docs.get('Location', ''))
print(schema.status_code, schema['Content-Type'])
"""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL"}}
    env.update(
        OVERSIGHT_MODE="production",
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY="t" * 60,
        OVERSIGHT_AUDIT_SEAL_KEY="test-seal",
        OVERSIGHT_ENCRYPTION_KEYS="b3ZlcnNpZ2h0LWRldmVsb3BtZW50LWtleS0zMmJ5dGU=",
        DJANGO_ALLOWED_HOSTS="testserver",
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    docs, schema = result.stdout.strip().splitlines()[-2:]
    assert docs.startswith("302 /sign-in/")
    assert schema.split()[0] in {"401", "403"} and "json" in schema


@pytest.mark.parametrize(
    ("limit", "body", "content_type", "status", "code"),
    [
        # A multipart body whose form fields exceed DATA_UPLOAD_MAX_MEMORY_SIZE (RequestDataTooBig: was a 500).
        (
            {"DATA_UPLOAD_MAX_MEMORY_SIZE": 1000},
            b'--b\r\nContent-Disposition: form-data; name="notes"\r\n\r\n' + b"x" * 5000 + b"\r\n--b--\r\n",
            "multipart/form-data; boundary=b",
            413,
            "body_too_large",
        ),
        # More form fields than DATA_UPLOAD_MAX_NUMBER_FIELDS (TooManyFieldsSent: was a 500).
        (
            {"DATA_UPLOAD_MAX_NUMBER_FIELDS": 10},
            "&".join(f"f{i}=1" for i in range(50)).encode(),
            "application/x-www-form-urlencoded",
            400,
            "too_many_fields",
        ),
    ],
)
def test_a_body_django_refuses_to_parse_is_a_coded_refusal_not_a_500(
    camden_api, settings, limit, body, content_type, status, code
):
    for name, value in limit.items():
        setattr(settings, name, value)
    for url in ("/api/v1/watchlist-images/", "/api/v1/watchlist-images/bulk/"):
        response = camden_api.generic("POST", url, body, content_type=content_type)
        if url.endswith("bulk/"):  # JSON only: the body is refused by type before it is read
            assert response.status_code == 415, response.content[:200]
            continue
        assert response.status_code == status, response.content[:200]
        assert response.json()["error"]["code"] == code


def test_notes_and_any_reason_named_parameter_are_refused_in_query_strings(camden_api):
    for name in ("notes", "outcome_notes", "withdrawal_reason", "X-Justification"):
        response = camden_api.get(f"/api/v1/watchlist-images/?{name}=Arrested+J.+Smith+at+home")
        assert response.status_code == 400, name
        assert response.json()["error"] == {
            "code": "reason_in_query_string",
            "message": response.json()["error"]["message"],
            "details": {"parameters": [name]},
        }


@pytest.mark.parametrize(
    "query", ["search=%00", "agreement=%C2%B2", "agreement=99999999999999999999", "status=nonsense"]
)
def test_list_filters_refuse_what_the_database_cannot_take(camden_api, query):
    """A NUL in a text parameter is an error in PostgreSQL (it was a 500); a superscript digit passed
    str.isdigit() and then failed int() (a 500); an id past bigint overflowed in the database."""
    for url in ("/api/v1/watchlist-images/", "/api/v1/agreements/"):
        if url == "/api/v1/agreements/" and query.startswith("agreement="):
            continue
        response = camden_api.get(f"{url}?{query}")
        assert response.status_code == 400, (url, query, response.content[:200])
        assert response.json()["error"]["code"] == "invalid_filter"


@pytest.mark.urls("tests.api.broken_urls")
@pytest.mark.parametrize("debug", [False, True])
def test_a_defect_under_api_is_a_json_500_without_details_even_under_debug(settings, debug):
    from django.test import Client

    settings.DEBUG = debug
    client = Client(raise_request_exception=False)
    for url in ("/api/v1/_broken/", "/api/v1/_broken-plain/"):
        response = client.get(url)
        assert response.status_code == 500, url
        assert response["Content-Type"] == "application/json", url
        assert response.json() == {
            "error": {
                "code": "server_error",
                "message": "Something went wrong on our side; it has been logged.",
                "details": None,
            }
        }
        assert b"secret.py" not in response.content and b"Traceback" not in response.content
