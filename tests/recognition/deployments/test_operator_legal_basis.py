"""Go-live needs the operator's own lawful basis (UK GDPR Art. 6, Art. 9 and its DPA 2018 Schedule 1
condition, recorded on the agreement) and its own approved appropriate policy document (Sch. 1 Part 4):
``governance.agreements.rules.operator_legal_basis_problems``, called by ``deployment_go_live``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from governance.agreements.models import Agreement
from governance.audit.models import AuditEvent
from governance.dpia.models import PolicyDocument
from governance.errors import StateConflict
from recognition.deployments.models import DeploymentStatus
from recognition.deployments.services.golive import deployment_go_live
from tests.conftest import approved_dpia, approved_policy

pytestmark = pytest.mark.django_db


def _ready_to_go_live(cast, deployment):
    from tests.factories import ensure_watchlist
    from tests.recognition.deployments.conftest import authorise

    approved_dpia(cast, deployments=[deployment])
    ensure_watchlist(deployment)  # the supplying force composes and reviews it
    authorise(deployment)  # the force's Authorising Officer


def _refused(cast, deployment, code):
    events = AuditEvent.objects.filter(event="deployment.went_live").count()
    with pytest.raises(StateConflict) as refused:
        deployment_go_live(actor=cast.estate_dpo, deployment=deployment)
    assert refused.value.code == code, refused.value.message
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.PLANNED and deployment.went_live_at is None
    assert AuditEvent.objects.filter(event="deployment.went_live").count() == events
    return refused.value


def test_an_agreement_from_before_the_rule_without_the_operators_basis_cannot_go_live(cast, planned_deployment):
    # Agreements approved before these fields existed carry none (the migration adds them blank).
    Agreement.objects.filter(pk__in=planned_deployment.agreements.values("pk")).update(
        operator_article6_basis="", operator_article9_condition="", operator_schedule1_condition=""
    )
    _ready_to_go_live(cast, planned_deployment)
    refusal = _refused(cast, planned_deployment, "operator_article6_missing")
    assert "Art. 6" in refusal.message and "Art. 9" in refusal.message and "Schedule 1" in refusal.message


def test_go_live_needs_the_operators_own_policy_document_in_force(cast, planned_deployment):
    _ready_to_go_live(cast, planned_deployment)
    # The estate's document lapsed (its review date passed): no approved, in-date document is in place.
    PolicyDocument.objects.filter(controller=cast.estate).update(review_on=timezone.localdate() - timedelta(days=1))
    refusal = _refused(cast, planned_deployment, "operator_policy_missing")
    assert "Sch. 1 Part 4" in refusal.message
    approved_policy(cast.estate_dpo)
    assert deployment_go_live(actor=cast.estate_dpo, deployment=planned_deployment).status == "live"
