"""Governance's own retention rules. Other kinds of personal data register theirs where they live
(e.g. alerts in recognition.deployments)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from governance.agreements.models import Agreement, AgreementStatus
from governance.audit.models import AuditEvent
from governance.audit.services import audit_event_redact
from governance.retention.models import HoldScope
from governance.retention.registry import RetentionRule, retention_rule_register


# --- audit events: personal fields redacted after the configured period --------------------------

def _audit_events_due(at: datetime) -> QuerySet:
    cutoff = at - timedelta(days=settings.AUDIT_PERSONAL_DATA_RETENTION_DAYS)
    return AuditEvent.objects.filter(occurred_at__lt=cutoff, redacted_at__isnull=True)


def _audit_event_erase(event: AuditEvent, run_id: str | None) -> int:
    audit_event_redact(event=event, reason=f"retention run {run_id}")
    return 1


retention_rule_register(RetentionRule(
    code="audit_event.personal_fields",
    title="Audit events: personal fields redacted",
    description="s.62 logs outlive the data they describe: after the configured period the event stays (what, "
                "when, which record, who acted) but its justification, recipient, label and details are blanked. "
                "Their digests stay, so the chain still verifies.",
    due=_audit_events_due,
    erase=_audit_event_erase,
    describe=lambda e: f"Audit event #{e.sequence}",
))


# --- watchlist images: erased within the agreement's hours after it ends --------------------------

def agreement_sharing_ended_at(agreement: Agreement) -> datetime | None:
    """When sharing under the agreement stopped: termination time, or the end of its last day."""
    if agreement.status == AgreementStatus.TERMINATED and agreement.ended_at:
        return agreement.ended_at
    if agreement.status == AgreementStatus.EXPIRED:
        day_after = agreement.ends_on + timedelta(days=1)
        return datetime.combine(day_after, time.min, tzinfo=timezone.get_default_timezone())
    return None


def agreement_watchlist_erasure_due_at(agreement: Agreement) -> datetime | None:
    ended = agreement_sharing_ended_at(agreement)
    return ended + timedelta(hours=agreement.watchlist_erasure_hours) if ended else None


def _watchlist_images_due(at: datetime) -> QuerySet:
    from governance.watchlist.models import ImageStatus, WatchlistImage

    ended = Agreement.objects.filter(status__in=[AgreementStatus.EXPIRED, AgreementStatus.TERMINATED])
    due_agreements = [a.pk for a in ended if (due := agreement_watchlist_erasure_due_at(a)) and due <= at]
    return WatchlistImage.objects.filter(agreement_id__in=due_agreements).exclude(status=ImageStatus.ERASED)


def _watchlist_image_erase(image, run_id: str | None) -> int:
    from governance.watchlist.services import watchlist_image_erase

    certificates = watchlist_image_erase(
        image=image, actor=None, rule="agreement_ended", run_id=run_id,
        reason=f"Agreement {image.agreement.reference} ended; watchlist data must be erased within "
               f"{image.agreement.watchlist_erasure_hours} hours.",
    )
    return len(certificates)


retention_rule_register(RetentionRule(
    code="watchlist_image.agreement_ended",
    title="Watchlist images after their agreement ends",
    description="The operator's copies of watchlist images and their templates are erased within the agreement's "
                "set hours after it expires or is terminated (Met policy: within 24 hours after a deployment ends).",
    due=_watchlist_images_due,
    erase=_watchlist_image_erase,
    hold_keys=lambda image: [(HoldScope.WATCHLIST_IMAGE.value, str(image.pk)), (HoldScope.AGREEMENT.value, str(image.agreement_id))],
    describe=str,
))
