"""Recognition's audit events in plain words, and the pages of the records they name
(``governance.audit.describe``: governance reads these without importing recognition)."""

from __future__ import annotations

from governance.audit.describe import audit_target_register, event_phrases_register

event_phrases_register(
    {
        "deployment.planned": "Deployment planned",
        "deployment.watchlist_reviewed": "Watchlist reviewed before going live",
        "deployment.went_live": "Deployment went live",
        "deployment.paused": "Deployment paused",
        "deployment.ended": "Deployment ended",
        "deployment.threshold_changed": "Match threshold changed",
        "deployment.authorised": "Deployment authorised by the force's Authorising Officer",
        "deployment.authorisation_refused": "Deployment refused by the force's Authorising Officer",
        "deployment.authorisation_voided": "Authorisation void: what was authorised changed",
        "deployment.post_reviewed": "Post-deployment review recorded by the Authorising Officer",
        "camera.added": "Camera added",
        "camera.key_issued": "Camera gateway key issued",
        "alert.raised": "Alert raised (a face matched a watchlist image)",
        "alert.probe_viewed": "Camera image of the alert viewed",
        "alert.reviewed": "Alert reviewed",
        "alert.confirmed": "Alert confirmed by two reviewers",
        "alert.closed_false": "Alert closed as a false match",
        "alert.disclosed": "Alert disclosed to the police",
        "alert.data_erased": "Alert's images erased at the end of retention",
        "alert_review.erased": "Review notes erased at the end of retention",
        "disclosure.outcome_reported": "Outcome of the disclosure reported",
        "disclosure.redacted": "Disclosure record redacted at the end of retention",
        "face_template.reenrolled": "Face template re-enrolled",
        "recognition.backend_switched": "Recognition engine switched",
    }
)

for target_type, noun, url_name in (
    ("deployments.deployment", "deployment", "deployment-detail"),
    ("deployments.alert", "alert", "alert-detail"),
    ("deployments.alertreview", "alert review", None),
    ("deployments.disclosure", "disclosure", None),
    ("deployments.camera", "camera", None),
    ("deployments.watchlistreview", "watchlist review", None),
    ("recognition.facetemplate", "face template", None),
    ("recognition.activebackend", "recognition engine", None),
):
    audit_target_register(target_type, noun, url_name)
