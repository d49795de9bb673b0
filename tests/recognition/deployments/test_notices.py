"""Recognition's clocks in the notification registry: deployments awaiting a force's authorisation, and outcomes
the police have not reported within the chase period — each raised once, to the people who answer for it only."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from governance.notifications.models import Notification
from governance.notifications.services import notifications_raise
from recognition.deployments.services.disclosure import alert_disclose
from recognition.deployments.services.planning import deployment_plan
from tests.recognition.deployments.conftest import (  # noqa: F401 - fixtures
    authorise,
    deployment_fields,
    enrolled_image_row,
    people,
    raise_alert,
)
from tests.recognition.deployments.review_helpers import confirm

pytestmark = pytest.mark.django_db


def test_a_deployment_awaiting_authorisation_is_notified_to_the_supplying_forces_officer_once(cast, active_agreement):
    deployment = deployment_plan(actor=cast.estate_dpo, agreements=[active_agreement], fields=deployment_fields(cast))
    notifications_raise()
    notifications_raise()
    waiting = Notification.objects.filter(clock="deployment-authorisation")
    assert [(n.recipient, n.stage) for n in waiting] == [(cast.met_ao, "awaiting")]
    assert waiting.get().url == f"/deployments/{deployment.pk}/authorisation/"
    authorise(deployment)
    notifications_raise()
    assert Notification.objects.filter(clock="deployment-authorisation").count() == 1


def test_an_outcome_overdue_is_chased_on_both_sides_after_the_chase_days(
    cast, people, live_deployment, active_agreement
):
    image = enrolled_image_row(active_agreement, cast.camden)
    alert = raise_alert(live_deployment, image)
    for reviewer in (people.reviewer_a, people.police_reviewer):
        confirm(reviewer, alert, notes="Same person.")
    disclosure = alert_disclose(
        actor=cast.estate_dpo,
        alert=alert,
        recipient_organisation=cast.camden,
        recipient="Camden LFR desk",
        channel="cjsm_email",
        justification="Wanted on warrant: location needed for arrest.",
    )
    notifications_raise()
    assert not Notification.objects.filter(clock="outcome-overdue").exists()
    chase = timedelta(days=settings.OVERSIGHT_OUTCOME_CHASE_DAYS, minutes=1)
    with time_machine.travel(disclosure.disclosed_at + chase, tick=False):
        notifications_raise()
        notifications_raise()
    overdue = Notification.objects.filter(clock="outcome-overdue", key=f"disclosure-outcome:{disclosure.pk}")
    recipients = {n.recipient for n in overdue}
    assert cast.estate_dpo in recipients and people.camden_submitter in recipients
    assert len(recipients) == overdue.count()  # once each
    for outsider in (cast.btp_dpo, people.btp_submitter, cast.other_dpo, cast.regulator):
        assert outsider not in recipients
    assert overdue.filter(recipient=cast.estate_dpo).get().url == f"/deployments/alerts/{alert.pk}/"
    assert timezone.now() < disclosure.disclosed_at + chase
