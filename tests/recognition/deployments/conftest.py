"""Fixtures for deployments, live matching, review and disclosure."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from governance.organisations.roles import Role
from governance.organisations.services import user_create


class People:
    def __init__(self, cast):
        def user(name, org, *roles):
            return user_create(actor=None, username=name, organisation=org, roles=list(roles), password=cast.password)

        self.reviewer_a = cast.estate_reviewer
        self.reviewer_b = user("reviewer2.estate", cast.estate, Role.REVIEWER)
        self.police_reviewer = user("reviewer.camden", cast.camden, Role.POLICE_REVIEWER)
        self.camden_submitter = user("api.camden", cast.camden, Role.FORCE_SUBMITTER)
        self.btp_submitter = user("api.btp", cast.btp, Role.FORCE_SUBMITTER)


@pytest.fixture
def people(cast) -> People:
    return People(cast)


def deployment_fields(cast, **overrides) -> dict:
    now = timezone.now()
    fields = {
        "name": "Granary Square overt LFR",
        "site": "King's Cross estate, Granary Square",
        "purpose": "Locate people wanted by the courts for serious offences.",
        "starts_at": now - timedelta(hours=1),
        "ends_at": now + timedelta(hours=8),
        "watchlist_justification": "People wanted on warrant for violent offences, images under DSA with Camden.",
        "location_justification": "Repeated robberies in the square; intelligence that wanted people frequent it.",
        "public_notice": "Signs at every entrance; notice on the estate website 48 hours ahead.",
        "public_notice_given_on": timezone.localdate() - timedelta(days=2),
    }
    fields.update(overrides)
    return fields


@pytest.fixture
def planned_deployment(cast, active_agreement):
    from recognition.deployments.services.cameras import camera_add
    from recognition.deployments.services.planning import deployment_plan

    deployment = deployment_plan(actor=cast.estate_dpo, agreements=[active_agreement], fields=deployment_fields(cast))
    deployment.camera = camera_add(
        actor=cast.estate_dpo,
        deployment=deployment,
        name="GS-1",
        location="Granary Square, north steps",
        direction="South towards the canal",
    )
    authorise(deployment)  # the Met's Authorising Officer authorises the proposal as it stands
    return deployment


AUTHORISATION_REASONS = {
    "necessity": "Wanted people for violent offences are known to pass through the square.",
    "proportionality": "Eight hours, two cameras, a small watchlist; less intrusive means have failed.",
    "watchlist_criteria": "Only people wanted on warrant for violent offences, most recent images.",
    "location": "Repeated robberies in Granary Square; intelligence places the wanted people there.",
}


def authorising_officer(force):
    """The force's Authorising Officer (a superintendent), created the first time it is needed."""
    from governance.organisations.models import User

    officer = User.objects.filter(organisation=force, groups__name=Role.AUTHORISING_OFFICER.group_name).first()
    return officer or user_create(
        actor=None,
        username=f"ao.{force.short_name}",
        organisation=force,
        roles=[Role.AUTHORISING_OFFICER],
        password="correct-horse-battery-9",
        rank="superintendent",
    )


def authorise(deployment):
    """Every supplying force's Authorising Officer authorises the deployment as it stands."""
    from recognition.deployments.access import deployment_supplying_forces
    from recognition.deployments.authorisation import deployment_authorisation_status, deployment_authorise

    current = {row["force"].pk for row in deployment_authorisation_status(deployment) if row["current"]}
    for force in deployment_supplying_forces(deployment):
        if force.pk not in current:
            deployment_authorise(actor=authorising_officer(force), deployment=deployment, **AUTHORISATION_REASONS)


def go_live(cast, deployment):
    from governance.dpia.rules import dpias_covering_deployment
    from recognition.deployments.services.golive import deployment_go_live
    from tests.conftest import approved_dpia
    from tests.factories import ensure_watchlist

    authorise(deployment)
    if not dpias_covering_deployment(deployment.pk).exists():  # the DPIA gate on go-live (governance.dpia)
        approved_dpia(cast, deployments=[deployment])
    ensure_watchlist(deployment)  # the supplying force composes and reviews it (tests.factories)
    return deployment_go_live(actor=cast.estate_dpo, deployment=deployment)


@pytest.fixture
def live_deployment(cast, planned_deployment):
    deployment = go_live(cast, planned_deployment)
    deployment.camera = planned_deployment.camera
    return deployment


def enrolled_image_row(agreement, supplier, *, subject="KX-SUBJ-0001"):
    """A watchlist image row marked enrolled (for rule tests that need no engine)."""
    from tests.factories import WatchlistImageFactory

    return WatchlistImageFactory(agreement=agreement, supplying_organisation=supplier, subject_reference=subject)


def _crop_jpeg() -> bytes:
    """A real (small, grey) JPEG, as the frame pipeline stores: the review queue's thumbnails decode it."""
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (64, 64), (128, 128, 128)).save(out, format="JPEG")
    return out.getvalue()


TEST_CROP_JPEG = _crop_jpeg()


def raise_alert(deployment, image, *, score=0.9, seen_at=None):
    """A sighting of ``image`` (put on the deployment's watchlist by its force first where it is not and may be)."""
    from recognition.deployments.services.alerts import Sighting, alert_record_sighting
    from tests.factories import on_watchlist

    on_watchlist(deployment, image)
    alert, _created = alert_record_sighting(
        sighting=Sighting(
            deployment_id=deployment.pk,
            camera_id=deployment.cameras.first().pk,
            image_id=image.pk,
            score=score,
            threshold=deployment.match_threshold,
            crop_jpeg=TEST_CROP_JPEG,
            seen_at=seen_at or timezone.now(),
        )
    )
    return alert


# --- faces -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def engine():
    """The process's engine (weights converted by the setup step; skipped if absent)."""
    from recognition.engine.config import load_config
    from tests.conftest import require

    require(load_config().weights_path.is_file(), "engine weights missing (run the setup step)")
    from recognition.engine import get_engine

    return get_engine()


def jpeg(image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=92)
    return out.getvalue()


def compose_frame(faces_dir: Path, photos: list[str], *, size=(640, 480)) -> bytes:
    """A camera-like frame: dev photos (250x250 LFW faces) side by side on a grey street."""
    from PIL import Image

    frame = Image.new("RGB", size, (96, 100, 104))
    x = 10
    for name in photos:
        person = name.rsplit("_", 1)[0]
        photo = Image.open(faces_dir / "dev" / person / f"{name}.jpg").convert("RGB").resize((200, 200))
        frame.paste(photo, (x, 140))
        x += 210
    return jpeg(frame)


def upload_and_enrol(agreement, submitter, faces_dir: Path, photo: str, *, subject: str):
    """Enrol through H2's real path: upload service → (on commit) enrolment task in-process."""
    from governance.watchlist.services import Provenance, watchlist_image_upload

    person = photo.rsplit("_", 1)[0]
    data = (faces_dir / "dev" / person / f"{photo}.jpg").read_bytes()
    image = watchlist_image_upload(
        actor=submitter,
        agreement_id=agreement.pk,
        image_bytes=data,
        provenance=Provenance(
            subject_reference=subject,
            custody_category="wanted",
            custody_reference="CUST/9/1",
            image_taken_on=timezone.localdate() - timedelta(days=20),
        ),
    )
    return image


# --- a real worker -------------------------------------------------------------------------------


@contextlib.contextmanager
def celery_worker(log: Path, *, env: dict, pool: str = "solo", concurrency: int = 1, name: str = "test"):
    """A real ``celery worker`` subprocess on a queue of its own, which this process's tasks go to meanwhile; stopped
    (warm shutdown, then killed after 30 s) on the way out. ``env`` is added to this process's environment."""
    from config.celery import app

    queue = f"{name}-{uuid.uuid4().hex[:8]}"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", f"--pool={pool}", f"--concurrency={concurrency}"]
        + ["-Q", queue, "--without-gossip", "--without-mingle", "--loglevel=INFO", f"--logfile={log}"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        yield worker
    finally:
        app.conf.task_default_queue = previous_queue
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
