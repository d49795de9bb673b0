"""Fixtures and helpers shared by the watchlist tests (service level and API level)."""

from __future__ import annotations

import io
import random
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from governance.organisations.roles import Role
from governance.organisations.services import user_create


def synthetic_jpeg(
    seed: int = 0, size: tuple[int, int] = (160, 160), *, exif_gps: bool = False, fmt: str = "JPEG"
) -> bytes:
    """A unique, valid image (noise seeded by ``seed``); optionally with an EXIF GPS block."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", size, bytes(rng.randrange(256) for _ in range(size[0] * size[1] * 3)))
    out = io.BytesIO()
    kwargs = {}
    if exif_gps:
        exif = Image.Exif()
        exif[0x010F] = "SecretCam"  # Make
        gps = {1: "N", 2: (51.0, 32.0, 1.0), 3: "W", 4: (0.0, 7.0, 30.0)}
        exif[0x8825] = gps
        kwargs["exif"] = exif.tobytes()
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


def provenance_fields(agreement_, **overrides) -> dict:
    today = timezone.localdate()
    fields = {
        "agreement": agreement_.pk,
        "subject_reference": "KX-SUBJ-0001",
        "custody_category": "wanted",
        "custody_reference": "CUST/01/2345",
        "image_taken_on": (today - timedelta(days=30)).isoformat(),
        "legal_basis": "s35_5",
    }
    fields.update(overrides)
    return fields


def make_submitter(cast, organisation, username: str):
    return user_create(
        actor=None, username=username, organisation=organisation, roles=[Role.FORCE_SUBMITTER], password=cast.password
    )


@pytest.fixture
def camden_submitter(cast):
    return make_submitter(cast, cast.camden, "api.camden")


@pytest.fixture
def met_submitter(cast):
    return make_submitter(cast, cast.met, "api.met")


@pytest.fixture
def btp_submitter(cast):
    return make_submitter(cast, cast.btp, "api.btp")


def token_client(user, *, days: int = 30):
    from rest_framework.test import APIClient

    from governance.api.tokens import api_token_issue

    entry, secret = api_token_issue(actor=None, organisation=user.organisation, user=user, days=days)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    client.token_entry = entry
    return client


@pytest.fixture
def camden_api(camden_submitter):
    return token_client(camden_submitter)


@pytest.fixture
def btp_api(btp_submitter):
    return token_client(btp_submitter)


@pytest.fixture
def met_api(met_submitter):
    return token_client(met_submitter)


def upload(
    client, agreement_, image: bytes | None = None, *, name: str = "photo.jpg", headers=None, seed: int = 1, **fields
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = provenance_fields(agreement_, **fields)
    data = {k: v for k, v in data.items() if v is not None}
    if image is not False:
        data["image"] = SimpleUploadedFile(
            name, image if image is not None else synthetic_jpeg(seed), content_type="image/jpeg"
        )
    return client.post("/api/v1/watchlist-images/", data, format="multipart", **(headers or {}))


def error_code(response) -> str:
    return response.json()["error"]["code"]


def worker_check(image_id: int) -> str:
    """The worker's first step with an accepted upload (``recognition.tasks.enrol_watchlist_image`` calls it before
    enrolment): decode, clean, store, or reject. Run by hand where the test's transaction never commits, so no
    after-commit task runs; tests of the whole path use ``django_capture_on_commit_callbacks(execute=True)``."""
    from governance.watchlist.services import watchlist_image_process_upload

    return watchlist_image_process_upload(image_id=image_id)
