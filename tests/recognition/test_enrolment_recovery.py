"""Recovery of lost enrolments: an image whose enrolment task never ran (the broker lost it, the
worker died before taking it) is picked up by the scheduled job and enrolled with the real engine."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError
from django.utils import timezone

from governance.scheduler import EmbeddedBeat
from governance.watchlist.models import ImageStatus, WatchlistImage
from recognition.models import FaceTemplate
from tests.governance.watchlist.support import (  # noqa: F401
    camden_api,
    camden_submitter,
    upload,
)

pytestmark = pytest.mark.django_db


def test_recovery_is_on_the_beat_schedule():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "recognition.tasks.enrol_pending_images" in tasks


def test_enrolment_retries_only_transient_database_errors():
    from recognition.tasks import enrol_watchlist_image

    retried = enrol_watchlist_image.autoretry_for
    assert any(issubclass(OperationalError, kind) for kind in retried)
    assert any(issubclass(InterfaceError, kind) for kind in retried)
    # A constraint violation or a bad query fails the same way every time: retrying only delays the error.
    assert not any(issubclass(IntegrityError, kind) for kind in retried)
    assert not any(
        issubclass(DatabaseError, kind) and kind is not OperationalError and kind is not InterfaceError
        for kind in retried
    )


@pytest.mark.faces
@pytest.mark.slow
def test_a_lost_enrolment_is_picked_up_by_the_schedule(faces_dir, camden_api, active_agreement):  # noqa: F811
    from recognition.engine.config import load_config
    from tests.conftest import require

    require(load_config().weights_path.is_file(), "engine weights missing (run the setup step)")
    # The upload commits, but its on-commit enrolment never runs: the task is lost.
    response = upload(
        camden_api, active_agreement, (faces_dir / "dev" / "Kofi_Annan" / "Kofi_Annan_0001.jpg").read_bytes()
    )
    assert response.status_code == 202, response.content
    image = WatchlistImage.objects.get(pk=response.json()["id"])
    assert image.status == ImageStatus.RECEIVED

    beat = EmbeddedBeat()
    beat.run_due()  # straight away the image is not stale yet: its own task may still be on its way
    image.refresh_from_db()
    assert image.status == ImageStatus.RECEIVED

    with time_machine.travel(timezone.now() + timedelta(hours=1), tick=False):
        ran = beat.run_due()
    assert any(settings.CELERY_BEAT_SCHEDULE[name]["task"] == "recognition.tasks.enrol_pending_images" for name in ran)
    image.refresh_from_db()
    assert image.status == ImageStatus.ENROLLED and image.enrolled_at
    assert FaceTemplate.objects.filter(image=image).count() == 1
