"""Go-live needs an approved, in-date DPIA covering the deployment that cites the running weights."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from governance.dpia import services as dpias
from governance.dpia.models import DPIAStatus
from governance.errors import StateConflict
from recognition.deployments.models import DeploymentStatus
from recognition.deployments.services.golive import deployment_go_live
from recognition.deployments.services.planning import deployment_plan
from tests.conftest import approved_dpia
from tests.factories import ensure_watchlist
from tests.recognition.deployments.conftest import deployment_fields

pytestmark = pytest.mark.django_db


def reviewed(cast, deployment):
    ensure_watchlist(deployment)  # the supplying force composes and reviews it


def test_go_live_refused_without_a_dpia(cast, planned_deployment):
    reviewed(cast, planned_deployment)
    with pytest.raises(StateConflict) as refused:
        deployment_go_live(actor=cast.estate_dpo, deployment=planned_deployment)
    assert refused.value.code == "dpia_missing"
    planned_deployment.refresh_from_db()
    assert planned_deployment.status == DeploymentStatus.PLANNED


def test_go_live_with_a_covering_dpia_and_its_evidence(cast, planned_deployment):
    dpia = approved_dpia(cast, deployments=[planned_deployment])
    row = dpia.deployments.get()
    assert row.threshold == planned_deployment.match_threshold
    # The live engine's (YuNet + SFace by default) measured figures at its 0.42 threshold.
    assert row.measured["fmr_trials"] == 8_276_346 and row.measured["fnmr_errors"] == 0
    assert len(row.weights_sha256) == 64
    reviewed(cast, planned_deployment)
    assert deployment_go_live(actor=cast.estate_dpo, deployment=planned_deployment).status == "live"


def test_go_live_refused_past_the_review_date(cast, active_agreement):
    deployment = deployment_plan(
        actor=cast.estate_dpo,
        agreements=[active_agreement],
        fields=deployment_fields(cast, ends_at=timezone.now() + timedelta(days=5)),
    )
    approved_dpia(cast, deployments=[deployment], review_on=timezone.localdate() + timedelta(days=1))
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        reviewed(cast, deployment)
        with pytest.raises(StateConflict) as refused:
            deployment_go_live(actor=cast.estate_dpo, deployment=deployment)
    assert refused.value.code == "dpia_review_overdue"


def test_other_running_weights_flag_the_dpia_and_refuse_go_live(cast, planned_deployment, settings, tmp_path):
    dpia = approved_dpia(cast, deployments=[planned_deployment])
    other = tmp_path / "other-weights.pt"
    other.write_bytes(b"not the weights the DPIA's evidence was measured with")
    # The live embedder's weights file replaced (SFace by default; FaceNet's WEIGHTS_PATH likewise).
    settings.RECOGNITION = {
        **getattr(settings, "RECOGNITION", {}),
        "SFACE_PATH": str(other),
        "WEIGHTS_PATH": str(other),
    }
    reviewed(cast, planned_deployment)
    with pytest.raises(StateConflict) as refused:
        deployment_go_live(actor=cast.estate_dpo, deployment=planned_deployment)
    assert refused.value.code == "dpia_cites_other_weights"
    dpia.refresh_from_db()
    assert dpia.flagged_for_review_at is not None and "other-weights.pt" in dpia.flag_reason
    # Reviewing it (a new version takes the evidence afresh, with the running weights) lets it go live.
    v2 = dpias.dpia_revise(actor=cast.estate_dpo, dpia=dpia, change_summary="Engine weights replaced.")
    assert v2.deployments.get().weights_sha256 != dpia.deployments.get().weights_sha256
    dpias.dpia_submit(actor=cast.estate_dpo, dpia=v2)
    dpias.dpia_approve(actor=cast.estate_dpo2, dpia=v2)
    dpia.refresh_from_db()
    assert dpia.status == DPIAStatus.SUPERSEDED
    assert deployment_go_live(actor=cast.estate_dpo, deployment=planned_deployment).status == "live"
