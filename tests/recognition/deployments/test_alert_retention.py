"""Alert data goes the day after the agreement's match-retention period, not before; holds block it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from governance.audit.models import AuditEvent
from governance.audit.services import audit_chain_verify
from governance.errors import StateConflict
from governance.retention.models import HoldScope
from governance.retention.services import legal_hold_place, retention_sweep
from governance.watchlist.models import DeletionCertificate
from recognition.deployments.models import Alert
from recognition.deployments.services.review import alert_review
from tests.recognition.deployments.conftest import enrolled_image_row, raise_alert

pytestmark = pytest.mark.django_db
RULE = "alert.match_retention"


def test_alert_data_is_erased_after_the_retention_period_and_not_before(
    cast, people, live_deployment, active_agreement
):
    image = enrolled_image_row(active_agreement, cast.camden)
    alert = raise_alert(live_deployment, image)
    days = active_agreement.match_retention_days
    assert alert.retention_due_at.date() == (alert.first_seen_at + timedelta(days=days)).date()

    with time_machine.travel(alert.retention_due_at - timedelta(hours=1), tick=False):
        assert retention_sweep().erased_counts[RULE] == 0
    alert.refresh_from_db()
    assert alert.probe_crop and alert.score is not None

    with time_machine.travel(alert.retention_due_at + timedelta(days=1), tick=False):
        run = retention_sweep()
    assert run.erased_counts[RULE] == 1
    alert.refresh_from_db()
    assert (bytes(alert.probe_crop), alert.score, alert.watchlist_image_id, alert.subject_reference) == (
        b"",
        None,
        None,
        "",
    )
    assert alert.erased_at is not None and alert.deployment_id == live_deployment.pk  # the fact stays
    certificate = DeletionCertificate.objects.get(subject_type="deployments.alert", subject_id=str(alert.pk))
    assert certificate.run_id == str(run.run_id) and len(certificate.sha256) == 64
    event = AuditEvent.objects.get(event="alert.data_erased")
    assert event.action == "erasure" and event.details["alerts"] == [alert.pk]
    with pytest.raises(StateConflict):
        alert_review(actor=people.reviewer_a, alert=alert, decision="confirm")
    assert audit_chain_verify().ok


def test_hold_on_the_agreement_blocks_alert_erasure_until_released(cast, people, live_deployment, active_agreement):
    from governance.retention.services import legal_hold_release

    alert = raise_alert(live_deployment, enrolled_image_row(active_agreement, cast.camden))
    hold = legal_hold_place(
        actor=cast.estate_dpo, target=f"{HoldScope.AGREEMENT.value}:{active_agreement.pk}", reason="Civil claim pending"
    )
    later = alert.retention_due_at + timedelta(days=2)
    with time_machine.travel(later, tick=False):
        run = retention_sweep()
        assert (run.erased_counts[RULE], run.held_counts[RULE]) == (0, 1)
        legal_hold_release(actor=cast.estate_dpo, hold=hold, reason="Claim settled")
        run = retention_sweep()
    assert run.erased_counts[RULE] == 1
    assert Alert.objects.get(pk=alert.pk).erased_at is not None


def test_ending_a_deployment_discards_cached_galleries_in_every_worker(
    cast, live_deployment, active_agreement, django_capture_on_commit_callbacks
):
    from recognition import gallery_cache, selectors
    from recognition.deployments.services.golive import deployment_end

    selectors.gallery_for_agreements([active_agreement.pk])  # this worker holds the deployment's gallery
    before = gallery_cache.gallery_version()
    with django_capture_on_commit_callbacks(execute=True):
        deployment_end(actor=cast.estate_dpo, deployment=live_deployment, reason="Operation finished")
    assert gallery_cache.gallery_version() != before  # every other worker rebuilds on next use, or never
    assert not gallery_cache._galleries  # and this one dropped its copy at once
