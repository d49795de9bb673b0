"""Correcting a reported outcome (issue 25): the supplying side only, a reason required, the old value kept
beside the disclosure and in the audit log; shown on the alert's page to the police who act on it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from governance.audit.models import AuditAction, AuditEvent
from governance.errors import NotFound, PermissionRefused, StateConflict, ValidationFailed
from recognition.deployments.models import OutcomeCorrection
from recognition.deployments.outcome_corrections import disclosure_correct_outcome
from recognition.deployments.services.outcomes import disclosure_record_outcome
from tests.recognition.deployments.conftest import enrolled_image_row
from tests.recognition.deployments.review_helpers import disclosed_alert

pytestmark = pytest.mark.django_db

REASON = "Recorded against the wrong alert: the officers spoke to him, no arrest."


@pytest.fixture
def disclosure(cast, people, live_deployment, active_agreement):
    image = enrolled_image_row(active_agreement, cast.camden)
    _alert, disclosure = disclosed_alert(live_deployment, image, cast, people)
    return disclosure


def test_a_reported_outcome_is_corrected_with_a_reason_and_the_old_value_kept(disclosure, people):
    with pytest.raises(StateConflict) as nothing_yet:
        disclosure_correct_outcome(
            actor=people.camden_submitter, disclosure=disclosure, outcome="arrested", reason=REASON
        )
    assert nothing_yet.value.code == "outcome_not_reported"
    disclosure_record_outcome(
        actor=people.camden_submitter, disclosure=disclosure, outcome="arrested", notes="Arrested at 14:20."
    )
    for reason in ("", "xxxxxxxxxxxx"):
        with pytest.raises(ValidationFailed) as refused:
            disclosure_correct_outcome(
                actor=people.camden_submitter, disclosure=disclosure, outcome="spoken_to", reason=reason
            )
        assert refused.value.code == "reason_required"
    with pytest.raises(ValidationFailed) as unknown:
        disclosure_correct_outcome(
            actor=people.camden_submitter, disclosure=disclosure, outcome="vanished", reason=REASON
        )
    assert unknown.value.code == "invalid_outcome"

    corrected = disclosure_correct_outcome(
        actor=people.camden_submitter, disclosure=disclosure, outcome="spoken_to", notes="Spoken to.", reason=REASON
    )
    assert corrected.outcome == "spoken_to" and corrected.outcome_notes == "Spoken to."
    kept = OutcomeCorrection.objects.get(disclosure=disclosure)
    assert (kept.previous_outcome, kept.previous_notes, kept.outcome, kept.reason) == (
        "arrested",
        "Arrested at 14:20.",
        "spoken_to",
        REASON,
    )
    assert kept.previous_reported_at is not None and kept.corrected_by == people.camden_submitter
    event = AuditEvent.objects.get(event="disclosure.outcome_corrected")
    assert event.action == AuditAction.ALTERATION and event.justification == REASON
    assert event.details["previous_outcome"] == "arrested" and event.details["outcome"] == "spoken_to"


def test_only_the_supplying_side_corrects(disclosure, cast, people):
    disclosure_record_outcome(actor=people.camden_submitter, disclosure=disclosure, outcome="arrested")
    # The operator sees the disclosure but does not speak for the force; a reviewer does not see it at all.
    for outsider, refusal in ((cast.estate_dpo, PermissionRefused), (people.reviewer_a, NotFound)):
        with pytest.raises(refusal):
            disclosure_correct_outcome(actor=outsider, disclosure=disclosure, outcome="no_action", reason=REASON)
    assert not OutcomeCorrection.objects.exists()


def test_the_police_correct_an_outcome_on_the_alerts_page(client, disclosure, cast, people):
    disclosure_record_outcome(actor=people.camden_submitter, disclosure=disclosure, outcome="arrested")
    page = reverse("alert-detail", args=[disclosure.alert_id])
    correct = reverse("disclosure-outcome-correct", args=[disclosure.pk])
    for who in (people.camden_submitter, cast.met_dpo, cast.camden_dpo):
        client.force_login(who)
        response = client.get(page)
        assert response.status_code == 200 and correct in response.content.decode(), who
    client.force_login(cast.estate_dpo)  # the operator sees the alert, corrects nothing
    assert correct not in client.get(page).content.decode()
    assert client.post(correct, {"outcome": "no_action", "reason": REASON}).status_code == 403

    client.force_login(people.camden_submitter)
    missing = client.post(correct, {"outcome": "spoken_to", "reason": ""})
    assert missing.status_code == 400 and 'data-code="reason_required"' in missing.content.decode()
    assert not OutcomeCorrection.objects.exists()
    done = client.post(correct, {"outcome": "spoken_to", "notes": "", "reason": REASON}, follow=True)
    body = done.content.decode()
    assert "corrected; the earlier one is kept" in body and "Spoken to" in body and "Arrested" in body
    assert REASON in body


def test_a_submitter_sees_the_alert_context_but_not_its_images_nor_its_deployment(client, disclosure, people):
    client.force_login(people.camden_submitter)
    alert_id = disclosure.alert_id
    body = client.get(reverse("alert-detail", args=[alert_id])).content.decode()
    assert disclosure.alert.subject_reference in body
    assert reverse("deployment-detail", args=[disclosure.alert.deployment_id]) not in body
    assert reverse("alert-crop-image", args=[alert_id]) not in body
    assert client.get(reverse("alert-crop-image", args=[alert_id])).status_code == 403
    assert client.get(reverse("alert-reference-image", args=[alert_id])).status_code == 403
    client.force_login(people.btp_submitter)  # another force's submitter: no such alert
    assert client.get(reverse("alert-detail", args=[alert_id])).status_code == 404
