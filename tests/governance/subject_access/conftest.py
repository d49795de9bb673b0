"""Fixtures for the subject request tests: a live Camden agreement with real image bytes (uploaded
through the service by Camden's submitter), a withdrawn image (so a deletion certificate exists),
and a clean subject-data registry around every test that registers a hook or provider of its own."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image, ImageDraw

from governance.subject_access import registry
from tests.governance.watchlist.support import worker_check


def face_like_jpeg(seed: int = 0, size=(200, 200)) -> bytes:
    """A real JPEG with two bright "faces" (ellipses) on a dark ground: left (the subject) and right
    (a bystander), so a redactor's effect can be measured pixel by pixel."""
    image = Image.new("RGB", size, (20 + seed, 30, 40))
    draw = ImageDraw.Draw(image)
    draw.ellipse((20, 40, 90, 140), fill=(230, 190, 160))
    draw.ellipse((110, 40, 180, 140), fill=(220, 180, 150))
    for x in range(0, size[0], 4):  # fine detail a blur destroys
        draw.line((x, 60, x, 120), fill=(0, 0, 0) if x % 8 else (255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95)
    return out.getvalue()


@pytest.fixture
def clean_registry():
    """Hooks and providers a test registers are removed afterwards (governance's own stay)."""
    providers, hooks = registry._PROVIDERS.snapshot(), registry._HOOKS.snapshot()
    registry._HOOKS.clear()
    yield registry
    registry._PROVIDERS.restore(providers)
    registry._HOOKS.restore(hooks)


class Held:
    """What the estate holds about MET-S-0001 (a Camden image with bytes) and a withdrawn image."""

    def __init__(self, cast, agreement):
        from governance.organisations.roles import Role
        from governance.organisations.services import user_create
        from governance.watchlist.models import DeletionCertificate
        from governance.watchlist.services import Provenance, watchlist_image_upload, watchlist_image_withdraw

        self.submitter = user_create(
            actor=None,
            username="api.camden",
            organisation=cast.camden,
            roles=[Role.FORCE_SUBMITTER],
            password=cast.password,
        )
        self.submitter.first_name, self.submitter.last_name = "Sam", "Submitter"
        self.submitter.save()

        def upload(seed, subject, case):
            image = watchlist_image_upload(
                actor=self.submitter,
                agreement_id=agreement.pk,
                image_bytes=face_like_jpeg(seed),
                provenance=Provenance(
                    subject_reference=subject,
                    custody_category="wanted",
                    custody_reference=case,
                    image_taken_on=timezone.localdate() - timedelta(days=20),
                    face_box=[20, 40, 90, 140],
                ),
            )
            worker_check(image.pk)  # the worker's decode and clean (the test's transaction never commits)
            image.refresh_from_db()
            return image

        self.image = upload(1, "MET-S-0001", "CUST/77/1")
        self.withdrawn = watchlist_image_withdraw(
            actor=self.submitter, image=upload(2, "MET-S-0001", "CUST/77/2"), reason="Arrested; no longer wanted."
        )
        self.other = upload(3, "MET-S-0999", "CUST/99/9")
        self.certificates = list(DeletionCertificate.objects.filter(details__watchlist_image=self.withdrawn.pk))


@pytest.fixture
def held(cast, active_agreement) -> Held:
    return Held(cast, active_agreement)


def intake(**overrides) -> dict:
    fields = {
        "regime": "uk_gdpr",
        "right": "access",
        "requester_name": "Robin Requester",
        "requester_contact": "robin@example.org\n1 Example Street, London N1C",
        "request_text": "Everything you hold about me from the King's Cross cameras.",
        "subject_references": ["MET-S-0001"],
        "received_on": timezone.localdate() - timedelta(days=3),
        "identity_verified_how": "Passport seen in person at the estate office.",
        "identity_verified_by_name": "Dana Okafor",
    }
    fields.update(overrides)
    return fields
