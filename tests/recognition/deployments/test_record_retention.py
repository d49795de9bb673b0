"""Review and disclosure records at the end of their own retention period (``recognition.deployments.retention``):
a review is deleted and a disclosure redacted (its outcome kept), each with a deletion certificate both sides of the
sharing read and an ``erasure`` event naming the run, scoped to both sides."""

from __future__ import annotations

import pytest
from django.db import transaction

from governance.audit.models import AuditEvent
from governance.retention.registry import retention_rule
from governance.watchlist.models import DeletionCertificate
from recognition.deployments.models import AlertReview, Disclosure
from tests.recognition.deployments.conftest import enrolled_image_row
from tests.recognition.deployments.review_helpers import disclosed_alert

pytestmark = pytest.mark.django_db


@pytest.fixture
def disclosure(cast, people, live_deployment, active_agreement):
    image = enrolled_image_row(active_agreement, cast.camden)
    _alert, disclosure = disclosed_alert(live_deployment, image, cast, people)
    return disclosure


def _event_organisations(event: AuditEvent) -> set[int]:
    return set(event.organisation_links.values_list("organisation_id", flat=True))


def test_a_review_record_is_deleted_with_a_certificate_and_an_erasure_event(disclosure, cast):
    alert = disclosure.alert
    review = alert.reviews.order_by("pk").first()
    review_id = str(review.pk)  # ``delete()`` clears the instance's pk
    with transaction.atomic():
        assert retention_rule("alert_review.record_retention").erase(review, "run-7") == 1
    assert not AlertReview.objects.filter(pk=review_id).exists()
    certificate = DeletionCertificate.objects.get(subject_type="deployments.alertreview", subject_id=review_id)
    assert (certificate.rule, certificate.run_id, certificate.reason) == (
        "alert_review.record_retention",
        "run-7",
        "Review record retention period ended",
    )
    assert certificate.subject_label == f"Review of alert #{alert.pk}" and len(certificate.sha256) == 64
    assert certificate.erased_by_name == "Oversight retention sweep" and certificate.details == {"alert": alert.pk}
    assert (certificate.supplier_organisation_id, certificate.operator_organisation_id) == (
        alert.supplying_organisation_id,
        alert.deployment.operator_id,
    )
    event = AuditEvent.objects.get(event="alert_review.erased", target_id=review_id)
    assert (event.action, event.actor_id, event.details) == ("erasure", None, {"run_id": "run-7", "alert": alert.pk})
    assert alert.concerned_organisation_ids() <= _event_organisations(event)


def test_a_disclosure_record_is_redacted_with_a_certificate_and_an_erasure_event(disclosure, cast):
    alert = disclosure.alert
    label = str(disclosure)[:300]
    with transaction.atomic():
        assert retention_rule("disclosure.record_retention").erase(disclosure, "run-8") == 1
    redacted = Disclosure.objects.get(pk=disclosure.pk)
    assert (redacted.recipient, redacted.justification, redacted.outcome_notes) == ("", "", "")
    assert redacted.redacted_at is not None and redacted.outcome == disclosure.outcome  # the outcome is kept
    certificate = DeletionCertificate.objects.get(subject_type="deployments.disclosure", subject_id=str(disclosure.pk))
    assert (certificate.rule, certificate.run_id, certificate.subject_label) == (
        "disclosure.record_retention",
        "run-8",
        label,
    )
    assert certificate.erased_at == redacted.redacted_at and certificate.details == {"alert": alert.pk}
    assert certificate.concerned_organisation_ids() == {alert.supplying_organisation_id, alert.deployment.operator_id}
    event = AuditEvent.objects.get(event="disclosure.redacted", target_id=str(disclosure.pk))
    assert (event.action, event.target_type, event.target_label, event.details) == (
        "erasure",
        "deployments.disclosure",
        f"Disclosure #{disclosure.pk}",
        {"run_id": "run-8"},
    )
    assert alert.concerned_organisation_ids() <= _event_organisations(event)
