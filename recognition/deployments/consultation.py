"""Consultations of alerts and disclosures (DPA 2018 s.62): what each page and API answer showed,
through ``governance.audit.consultation``. One event per record page, one per list page."""

from __future__ import annotations

from typing import Any

from governance.audit.consultation import (
    ConsultedRecord,
    audit_consultation,
    audit_consultation_batch,
    consulted_record_register,
    subject_lookup_register,
)
from recognition.deployments import access
from recognition.deployments.models import Alert, Disclosure

ALERT_SHOWN = "subject reference, deployment, camera and place, time, score, status and reviews"
DISCLOSURE_SHOWN = "the disclosed alert (subject reference, place, time, score), recipient and outcome"
REVIEWING = "=Reviewing alerts in the live review queue"
# The police API serves only disclosures the caller's supply chain received: the purpose follows from
# that task unless the client names another in the header.
ACTING_ON_DISCLOSURES = "=Acting on disclosures our force received"


def alert_purpose_kind(request: Any, **kwargs: Any) -> str:
    """A reviewer's purpose follows from the task (reviewing), and so does a police user's (acting on
    what its supply chain was disclosed: the only alerts the police see); anyone else says why, once a
    session."""
    if access.can_review_alerts(request.user):
        return REVIEWING
    organisation = getattr(request.user, "organisation", None)
    if organisation is not None and organisation.is_police:
        return ACTING_ON_DISCLOSURES
    return "alerts"


def disclosure_purpose_kind(request: Any, **kwargs: Any) -> str:
    """The police act on what was disclosed to their supply chain (the purpose follows from the task, as on
    the API); the operator's DPO and the regulator say why, once a session."""
    organisation = getattr(request.user, "organisation", None)
    if organisation is not None and organisation.is_police:
        return ACTING_ON_DISCLOSURES
    return "disclosures"


def alert_consulted(request: Any, alert: Alert) -> None:
    audit_consultation(
        actor=request.user,
        target=alert,
        event="alert.viewed",
        justification=request.consultation_purpose,
        shown=ALERT_SHOWN,
        details={"subject_reference": alert.subject_reference},
    )


def _alert_organisations(alert_ids: list[int]) -> set[int]:
    """The operators and suppliers of these alerts, in one query (never one per row)."""
    pairs = Alert.objects.filter(pk__in=alert_ids).values_list("supplying_organisation_id", "deployment__operator_id")
    return {pk for pair in pairs for pk in pair if pk}


def alerts_listed(request: Any, rows: list[dict], *, event: str, label: str) -> None:
    ids = [row["id"] for row in rows]
    audit_consultation_batch(
        actor=request.user,
        target_type="deployments.alert",
        records=ids,
        event=event,
        justification=request.consultation_purpose,
        shown="each pending alert's subject reference, deployment, camera, time and score",
        label=label,
        organisations=_alert_organisations(ids),
        subject_references=[row["subject_reference"] for row in rows],
    )


POLLED_KEY = "oversight_review_queue_recorded"


def alerts_polled(request: Any, rows: list[dict]) -> None:
    """The queue's JSON poll: recorded when it shows an alert the session's last recorded poll did
    not, so a reviewer watching the queue writes one event per new alert shown, not one every 2 s."""
    ids = sorted(row["id"] for row in rows)
    recorded = set(request.session.get(POLLED_KEY, []))
    if recorded.issuperset(ids) and POLLED_KEY in request.session:
        return
    alerts_listed(request, rows, event="review_queue.polled", label="Review queue (live update)")
    request.session[POLLED_KEY] = ids


def _disclosure_organisations(disclosure_ids: list[int]) -> set[int]:
    rows = Disclosure.objects.filter(pk__in=disclosure_ids).values_list(
        "recipient_organisation_id", "alert__supplying_organisation_id", "alert__deployment__operator_id"
    )
    return {pk for row in rows for pk in row if pk}


def disclosure_consulted(request: Any, disclosure: Disclosure) -> None:
    audit_consultation(
        actor=request.user,
        target=disclosure,
        event="disclosure.viewed",
        justification=request.consultation_purpose,
        shown=DISCLOSURE_SHOWN,
        details={"subject_reference": disclosure.alert.subject_reference, "alert": disclosure.alert_id},
        organisations=_disclosure_organisations([disclosure.pk]),
    )


def disclosures_listed(request: Any, disclosures: list[Disclosure], *, event: str) -> None:
    ids = [d.pk for d in disclosures]
    audit_consultation_batch(
        actor=request.user,
        target_type="deployments.disclosure",
        records=ids,
        event=event,
        justification=request.consultation_purpose,
        shown=DISCLOSURE_SHOWN,
        label="Disclosures",
        organisations=_disclosure_organisations(ids),
        subject_references=[d.alert.subject_reference for d in disclosures],
    )


consulted_record_register(ConsultedRecord("alert", "deployments.alert", "alert", access.alert_for))
consulted_record_register(ConsultedRecord("disclosure", "deployments.disclosure", "disclosure", access.disclosure_for))
subject_lookup_register(
    lambda user, reference: access.alerts_visible_to(user).filter(subject_reference=reference).exists()
)
