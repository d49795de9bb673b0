"""Retention rules for live-matching data, registered with governance's retention registry.

- Alert data (the encrypted probe crop, the score, the link to the watchlist image) is erased when
  the agreement's match-retention period has passed (``Alert.retention_due_at``, set from
  ``agreement.match_retention_days`` when the alert was raised). The fact that an alert happened —
  when, where, its review outcome — stays for statistics and for the disclosure trail.
- Review notes and disclosure details are kept for their own period
  (``OVERSIGHT_REVIEW_RECORD_RETENTION_DAYS``), then review rows are deleted and disclosures are
  redacted to their outcome.

Alerts fall due in large numbers, so they are erased a batch at a time: one UPDATE, one bulk insert
of deletion certificates and one s.62 ``erasure`` event naming every alert in the batch.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.retention.erasure import erasure_with_certificate
from governance.retention.models import HoldScope
from governance.retention.registry import (
    HoldTarget,
    RetentionRule,
    hold_target_register,
    retention_rule_register,
    visible_by_parties,
)
from governance.retention.rules import watchlist_image_hold_keys, watchlist_images_visible
from governance.watchlist.models import DeletionCertificate
from recognition.deployments.models import Alert, AlertReview, DeploymentStatus, Disclosure, OutcomeCorrection


def _alerts_due(at: datetime) -> QuerySet:
    return (
        Alert.objects.filter(retention_due_at__lte=at, erased_at__isnull=True)
        .select_related("deployment")
        .only(
            "pk",
            "agreement_id",
            "watchlist_image_id",
            "probe_crop",
            "retention_due_at",
            "deployment_id",
            "supplying_organisation_id",
            "deployment__operator_id",
        )
    )


def _alert_hold_keys(alert: Alert) -> list[tuple[str, str]]:
    keys = [(HoldScope.ALERT.value, str(alert.pk)), (HoldScope.AGREEMENT.value, str(alert.agreement_id))]
    if alert.watchlist_image_id:
        keys.append((HoldScope.WATCHLIST_IMAGE.value, str(alert.watchlist_image_id)))
    return keys


MATCH_RETENTION_REASON = "Match retention period ended"


def alerts_erase_batch(
    alerts: list[Alert],
    run_id: str | None,
    *,
    reason: str = MATCH_RETENTION_REASON,
    rule: str = "alert.match_retention",
    actor=None,
    justification: str = "Match retention period ended (agreement terms)",
) -> list[DeletionCertificate]:
    """Erase the data of these (locked, unheld) alerts inside the caller's transaction: the probe crop, the
    probe embedding (what a face search compares with), the score and the link to the image. One deletion
    certificate per alert and one s.62 ``erasure`` event naming them all.

    The retention sweep calls it with its batch (due alerts; the defaults say why); a subject's erasure
    request (``recognition.deployments.subject_access``) with one alert, its own reason, rule and actor.
    Returns the certificates (the sweep counts them)."""
    now = timezone.now()
    pks = [a.pk for a in alerts]
    erased_by = (actor.get_full_name() or actor.get_username()) if actor else "Oversight retention sweep"
    certificates = DeletionCertificate.objects.bulk_create(
        [
            DeletionCertificate(
                subject_type="deployments.alert",
                subject_id=str(a.pk),
                subject_label=f"Alert #{a.pk} probe crop, embedding and score",
                sha256=hashlib.sha256(bytes(a.probe_crop)).hexdigest(),
                reason=reason,
                rule=rule,
                erased_at=now,
                erased_by=actor,
                erased_by_name=erased_by,
                run_id=run_id,
                supplier_organisation_id=a.supplying_organisation_id,
                operator_organisation_id=a.deployment.operator_id,
                details={
                    "deployment": a.deployment_id,
                    "agreement": a.agreement_id,
                    "retention_due_at": a.retention_due_at.isoformat(),
                    "sha256_of": "stored encrypted crop",
                },
            )
            for a in alerts
        ],
        batch_size=1000,
    )
    Alert.objects.filter(pk__in=pks, erased_at__isnull=True).update(
        probe_crop=b"",
        probe_key_id="",
        probe_embedding=b"",
        probe_changed_at=now,
        score=None,
        watchlist_image=None,
        subject_reference="",
        open_key=None,
        erased_at=now,
    )
    # One alert: the event is about that alert (a subject's request finds it by its target); a batch names
    # its range and lists every alert in the details.
    target = (
        ("deployments.alert", str(pks[0]), f"Alert #{pks[0]}")
        if len(pks) == 1
        else ("deployments.alert", f"{pks[0]}..{pks[-1]}", f"{len(pks)} alerts")
    )
    audit_record(
        action=AuditAction.ERASURE,
        event="alert.data_erased",
        actor=actor,
        target=target,
        justification=justification,
        details={
            "rule": rule,
            "run_id": run_id,
            "alerts": pks,
            "certificates": [c.pk for c in certificates if c.pk is not None],
        },
        organisations={i for a in alerts for i in (a.supplying_organisation_id, a.deployment.operator_id)},
    )
    return certificates


def _alerts_erase_for_sweep(alerts: list[Alert], run_id: str | None) -> int:
    return len(alerts_erase_batch(alerts, run_id))


retention_rule_register(
    RetentionRule(
        code="alert.match_retention",
        title="Alert data after the match retention period",
        description="Probe crops and scores of alerts are erased when the agreement's match-retention period "
        "(e.g. 30 days at King's Cross, 31 in Met policy) has passed; the record that an alert happened stays.",
        due=_alerts_due,
        erase=lambda alert, run_id: _alerts_erase_for_sweep([alert], run_id),
        erase_batch=_alerts_erase_for_sweep,
        order=("retention_due_at", "pk"),  # served by alert_retention_due_idx (partial: not yet erased)
        hold_keys=_alert_hold_keys,
        visible=visible_by_parties(supplier="supplying_organisation_id", operator="deployment__operator_id"),
        describe=lambda a: f"Alert #{a.pk} (due {timezone.localtime(a.retention_due_at):%d %b %Y %H:%M})",
    )
)


# --- a deployment's watchlist at the operator: erased within hours of the deployment's end ----------


def watchlist_image_erasure_due_at(image) -> datetime | None:
    """THE RULE for how long the operator holds a watchlist image (its stored bytes and its templates).

    DOMAIN.md, "Retention in practice (Met policy)": "watchlist data deleted within **24 hours** after a
    deployment ends" — and a watchlist is specific to one operation (College of Policing APP). So:

    - An image on the watchlist of a planned, live or paused deployment is held (not due: None).
    - Otherwise it is due the agreement's ``watchlist_erasure_hours`` (24 by default) after the last
      moment a deployment needed it: the end of the last deployment whose watchlist held it, or its
      removal from a deployment's watchlist before that deployment ended.
    - **Grace period between deployments**: an image never composed into a deployment (or taken off
      every one) is held at most the same hours after it was received, then erased the same way:
      between deployments the operator holds no biometric watchlist data. The next deployment is
      supplied afresh (an erased image cannot be composed again; the force uploads a new one).

    The force's provenance record of the image stays (status "erased", with the deletion certificates
    naming the deployment). Legal holds on the image or its agreement keep it. Images recorded after
    the fact from the historical record (no bytes) are not this rule's."""
    from recognition.deployments.watchlist_models import DeploymentWatchlistEntry

    entries = DeploymentWatchlistEntry.objects.filter(image_id=image.pk).select_related("deployment")
    last_needed = image.received_at
    for entry in entries:
        if entry.deployment.status != DeploymentStatus.ENDED:
            if entry.removed_at is None:
                return None
            last_needed = max(last_needed, entry.removed_at)
        else:
            ended = entry.deployment.ended_at or entry.deployment.ends_at
            last_needed = max(last_needed, min(ended, entry.removed_at) if entry.removed_at else ended)
    return last_needed + timedelta(hours=image.agreement.watchlist_erasure_hours)


def _watchlist_at_operator_due(at: datetime) -> QuerySet:
    """``watchlist_image_erasure_due_at`` as one query (the sweep pages through it by primary key)."""
    from django.db.models import Exists, Max, OuterRef, Q, Subquery
    from django.db.models.functions import Coalesce, Greatest, Least

    from governance.agreements.models import Agreement
    from governance.watchlist.models import ImageStatus, WatchlistImage
    from recognition.deployments.watchlist_models import DeploymentWatchlistEntry

    entries = DeploymentWatchlistEntry.objects.filter(image_id=OuterRef("pk")).order_by()
    not_ended = entries.exclude(deployment__status=DeploymentStatus.ENDED)

    def latest(queryset, expression):
        return Subquery(queryset.values("image_id").annotate(m=Max(expression)).values("m")[:1])

    ended_at = Coalesce("deployment__ended_at", "deployment__ends_at")
    candidates = (
        WatchlistImage.objects.filter(
            status__in=[ImageStatus.RECEIVED, ImageStatus.ENROLLED, ImageStatus.REJECTED],
            recorded_retrospectively=False,
        )
        .annotate(
            still_needed=Exists(not_ended.filter(removed_at__isnull=True)),
            last_end=latest(
                entries.filter(deployment__status=DeploymentStatus.ENDED),
                Least(ended_at, Coalesce("removed_at", ended_at)),
            ),
            last_removed=latest(not_ended.filter(removed_at__isnull=False), "removed_at"),
        )
        .filter(still_needed=False)
        .annotate(
            last_needed=Greatest(
                "received_at",
                Coalesce("last_end", "received_at"),
                Coalesce("last_removed", "received_at"),
            )
        )
    )
    hours = set(Agreement.objects.values_list("watchlist_erasure_hours", flat=True).distinct())
    condition = Q(pk__in=[])
    for h in hours:
        condition |= Q(agreement__watchlist_erasure_hours=h, last_needed__lte=at - timedelta(hours=h))
    return WatchlistImage.objects.filter(pk__in=candidates.filter(condition).values("pk")).select_related("agreement")


def _last_deployment(image):
    from recognition.deployments.watchlist_models import DeploymentWatchlistEntry

    entry = (
        DeploymentWatchlistEntry.objects.filter(image_id=image.pk)
        .select_related("deployment")
        .order_by("-deployment__ends_at", "-pk")
        .first()
    )
    return entry.deployment if entry else None


def _watchlist_at_operator_erase(image, run_id: str | None) -> int:
    from governance.watchlist.services import watchlist_image_erase

    if watchlist_image_erasure_due_at(image) is None:  # back on a planned or live watchlist since the query
        return 0
    deployment = _last_deployment(image)
    hours = image.agreement.watchlist_erasure_hours
    if deployment is not None:
        reason = (
            f"Erased at the operator after deployment {deployment.reference} ended: watchlist data is deleted "
            f"within {hours} hours after a deployment ends."
        )
    else:
        reason = (
            f"Erased at the operator: not on the watchlist of any planned or live deployment within {hours} hours "
            "of its receipt (between deployments the operator holds no watchlist data)."
        )
    return len(
        watchlist_image_erase(
            image=image, actor=None, reason=reason, rule="watchlist_image.deployment_ended", run_id=run_id
        )
    )


retention_rule_register(
    RetentionRule(
        code="watchlist_image.deployment_ended",
        title="Watchlist images after their deployment ends",
        description="The operator's copy of each watchlist image and its templates are erased within the agreement's "
        "watchlist hours (24 by default) after the last deployment whose watchlist held it ends (Met policy: "
        "watchlist data deleted within 24 hours after a deployment ends); an image on no planned or live "
        "deployment's watchlist is erased the same hours after its receipt. The force's provenance record stays.",
        due=_watchlist_at_operator_due,
        erase=_watchlist_at_operator_erase,
        hold_keys=watchlist_image_hold_keys,
        describe=str,
        visible=watchlist_images_visible,
    )
)


# --- review and disclosure records: their own period ---------------------------------------------


def _records_cutoff(at: datetime) -> datetime:
    return at - timedelta(days=settings.OVERSIGHT_REVIEW_RECORD_RETENTION_DAYS)


def _reviews_due(at: datetime) -> QuerySet:
    return AlertReview.objects.filter(decided_at__lt=_records_cutoff(at)).select_related("alert__deployment")


def _review_digest(review: AlertReview) -> str:
    return hashlib.sha256(
        f"{review.reviewer_name}|{review.decision}|{review.reason}|{review.notes}".encode()
    ).hexdigest()


def _review_erase(review: AlertReview, run_id: str | None, reason: str = "Review record retention period ended") -> int:
    erasure_with_certificate(
        target=review,
        subject_type="deployments.alertreview",
        label=f"Review of alert #{review.alert_id}",
        sha256=_review_digest(review),
        rule="alert_review.record_retention",
        reason=reason,
        run_id=run_id,
        erased_by_name="Oversight retention sweep",
        details={"alert": review.alert_id},
        supplier_organisation_id=review.alert.supplying_organisation_id,
        operator_organisation_id=review.alert.deployment.operator_id,
        event="alert_review.erased",
        justification="Review record retention period ended",
        audit_details={"alert": review.alert_id},
        organisations=review.alert.concerned_organisation_ids(),
    )
    review.delete()
    return 1


def _disclosures_due(at: datetime) -> QuerySet:
    return Disclosure.objects.filter(disclosed_at__lt=_records_cutoff(at), redacted_at__isnull=True).select_related(
        "alert__deployment"
    )


def _disclosure_digest(disclosure: Disclosure) -> str:
    return hashlib.sha256(
        f"{disclosure.recipient}|{disclosure.justification}|{disclosure.outcome_notes}".encode()
    ).hexdigest()


DISCLOSURE_RETENTION_REASON = (
    "Disclosure record retention period ended (recipient, justification and notes redacted; outcome kept)"
)


def _disclosure_erase(disclosure: Disclosure, run_id: str | None, reason: str = DISCLOSURE_RETENTION_REASON) -> int:
    now = timezone.now()
    Disclosure.objects.filter(pk=disclosure.pk).update(
        recipient="", justification="", outcome_notes="", redacted_at=now
    )
    OutcomeCorrection.objects.filter(disclosure=disclosure).update(previous_notes="", reason="")
    erasure_with_certificate(
        target=("deployments.disclosure", str(disclosure.pk), f"Disclosure #{disclosure.pk}"),
        subject_type="deployments.disclosure",
        label=str(disclosure)[:300],
        sha256=_disclosure_digest(disclosure),
        rule="disclosure.record_retention",
        reason=reason,
        run_id=run_id,
        erased_at=now,
        erased_by_name="Oversight retention sweep",
        details={"alert": disclosure.alert_id},
        supplier_organisation_id=disclosure.alert.supplying_organisation_id,
        operator_organisation_id=disclosure.alert.deployment.operator_id,
        event="disclosure.redacted",
        justification="Disclosure record retention period ended",
        organisations=disclosure.alert.concerned_organisation_ids(),
    )
    return 1


def _record_hold_keys(record) -> list[tuple[str, str]]:
    return [(HoldScope.ALERT.value, str(record.alert_id))]


retention_rule_register(
    RetentionRule(
        code="alert_review.record_retention",
        title="Review records after their period",
        description="Reviewers' decisions and notes are kept for the review-record period, then deleted.",
        due=_reviews_due,
        erase=_review_erase,
        hold_keys=_record_hold_keys,
        visible=visible_by_parties(
            supplier="alert__supplying_organisation_id", operator="alert__deployment__operator_id"
        ),
        describe=lambda r: f"Review #{r.pk} of alert #{r.alert_id}",
    )
)
retention_rule_register(
    RetentionRule(
        code="disclosure.record_retention",
        title="Disclosure details after their period",
        description="Who received a disclosure and why are kept for the disclosure-record period (the s.62 audit event "
        "keeps the fact of it), then redacted; the police outcome stays for reporting.",
        due=_disclosures_due,
        erase=_disclosure_erase,
        hold_keys=_record_hold_keys,
        visible=visible_by_parties(
            supplier="alert__supplying_organisation_id", operator="alert__deployment__operator_id"
        ),
        describe=lambda d: f"Disclosure #{d.pk} of alert #{d.alert_id}",
    )
)


def _alerts_party_to(actor) -> QuerySet:
    from recognition.deployments.access import alerts_visible_to

    return alerts_visible_to(actor).filter(erased_at__isnull=True)


hold_target_register(
    HoldTarget(
        scope=HoldScope.ALERT.value,
        title="Alert",
        candidates=_alerts_party_to,
        parties=lambda a: (a.supplying_organisation_id, a.deployment.operator_id),
        label=lambda a: (
            f"Alert #{a.pk} {a.subject_reference} ({a.deployment.reference}, "
            f"{timezone.localtime(a.first_seen_at):%d %b %Y %H:%M})"
        ),
    )
)


# --- the erasure journal (governance.retention.journal): how these erasures are re-applied after a
# restore from a backup taken before them. Ids and the certificates' digests only.

JOURNAL_RUN_ID = "journal-replay"


def _certificate_digests(subject_type: str, ids: list[str]) -> dict[str, str]:
    return dict(
        DeletionCertificate.objects.filter(subject_type=subject_type, subject_id__in=ids).values_list(
            "subject_id", "sha256"
        )
    )


def _alerts_describe(event) -> dict:
    ids = [str(pk) for pk in event.details.get("alerts", [])]
    digests = _certificate_digests("deployments.alert", ids)
    return {"alerts": [[int(pk), digests.get(pk, "")] for pk in ids]}


def _alerts_replay(data: dict, note: str) -> list[str]:
    from governance.retention import journal

    wanted = {pk: digest for pk, digest in data["alerts"]}
    found = {a.pk: a for a in Alert.objects.select_related("deployment").filter(pk__in=list(wanted))}
    outcomes, erase = [], []
    for pk, digest in wanted.items():
        alert = found.get(pk)
        if alert is None:
            outcomes.append(journal.ABSENT)
        elif alert.erased_at:
            outcomes.append(journal.ALREADY_ERASED)
        elif hashlib.sha256(bytes(alert.probe_crop)).hexdigest() != digest:
            outcomes.append(journal.DIFFERENT_RECORD)
        else:
            erase.append(alert)
    if erase:
        alerts_erase_batch(erase, JOURNAL_RUN_ID, reason=note)  # the certificate says it was re-applied
        outcomes += [journal.REAPPLIED] * len(erase)
    return outcomes


def _review_describe(event) -> dict:
    return {
        "review": int(event.target_id),
        "sha256": _certificate_digests("deployments.alertreview", [event.target_id]).get(event.target_id, ""),
    }


def _review_replay(data: dict, note: str) -> list[str]:
    from governance.retention import journal

    review = AlertReview.objects.select_related("alert__deployment").filter(pk=data["review"]).first()
    if review is None:
        return [journal.ALREADY_ERASED]  # reviews are deleted: absent and erased look the same
    if _review_digest(review) != data["sha256"]:
        return [journal.DIFFERENT_RECORD]
    _review_erase(review, JOURNAL_RUN_ID, reason=note)
    return [journal.REAPPLIED]


def _disclosure_describe(event) -> dict:
    return {
        "disclosure": int(event.target_id),
        "sha256": _certificate_digests("deployments.disclosure", [event.target_id]).get(event.target_id, ""),
    }


def _disclosure_replay(data: dict, note: str) -> list[str]:
    from governance.retention import journal

    disclosure = Disclosure.objects.select_related("alert__deployment").filter(pk=data["disclosure"]).first()
    if disclosure is None:
        return [journal.ABSENT]
    if disclosure.redacted_at:
        return [journal.ALREADY_ERASED]
    if _disclosure_digest(disclosure) != data["sha256"]:
        return [journal.DIFFERENT_RECORD]
    _disclosure_erase(disclosure, JOURNAL_RUN_ID, reason=note)
    return [journal.REAPPLIED]


def _register_erasure_kinds() -> None:
    from governance.retention.journal import ErasureKind, erasure_kind_register

    erasure_kind_register(ErasureKind(event="alert.data_erased", describe=_alerts_describe, replay=_alerts_replay))
    erasure_kind_register(ErasureKind(event="alert_review.erased", describe=_review_describe, replay=_review_replay))
    erasure_kind_register(
        ErasureKind(event="disclosure.redacted", describe=_disclosure_describe, replay=_disclosure_replay)
    )


_register_erasure_kinds()
