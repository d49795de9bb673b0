"""The embedded default runs the one beat schedule on a thread, so dated work happens unclicked."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from governance.agreements.models import AgreementStatus
from governance.scheduler import EmbeddedBeat

pytestmark = pytest.mark.django_db


def test_first_pass_runs_every_scheduled_job(cast):
    assert set(EmbeddedBeat().run_due()) == set(settings.CELERY_BEAT_SCHEDULE)


def test_jobs_run_again_only_when_due_and_expire_agreements(cast, active_agreement):
    beat = EmbeddedBeat()
    beat.run_due()
    assert beat.run_due() == []  # nothing is due a second time straight away
    with time_machine.travel(timezone.now() + timedelta(days=400), tick=False):
        ran = beat.run_due()
    assert "agreements-apply-dates" in ran
    active_agreement.refresh_from_db()
    assert active_agreement.status == AgreementStatus.EXPIRED
