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
from governance.retention.registry import (
    HoldTarget,
    RetentionRule,
    hold_target_register,
    retention_rule_register,
    visible_by_parties,
)


def _audit_events_visible(actor, queryset: QuerySet) -> QuerySet:
    from governance.access import audit_events_visible_to, can_read_audit_log

    if not can_read_audit_log(actor):
        return queryset.none()
    return queryset.filter(pk__in=audit_events_visible_to(actor).values("pk"))


# --- audit events: personal fields redacted after the configured period --------------------------


def _audit_events_due(at: datetime) -> QuerySet:
    cutoff = at - timedelta(days=settings.AUDIT_PERSONAL_DATA_RETENTION_DAYS)
    return AuditEvent.objects.filter(occurred_at__lt=cutoff, redacted_at__isnull=True)


def _audit_event_erase(event: AuditEvent, run_id: str | None) -> int:
    audit_event_redact(event=event, reason=f"retention run {run_id}")
    return 1


retention_rule_register(
    RetentionRule(
        code="audit_event.personal_fields",
        title="Audit events: personal fields redacted",
        description="s.62 logs outlive the data they describe: after the configured period the event stays (what, "
        "when, which record, who acted) but its justification, recipient, label and details are blanked. "
        "Their digests stay, so the chain still verifies.",
        due=_audit_events_due,
        erase=_audit_event_erase,
        describe=lambda e: f"Audit event #{e.sequence}",
        visible=_audit_events_visible,
    )
)


# --- watchlist images: erased within the agreement's hours after it ends --------------------------

# What happens to watchlist images in each state of their agreement: every state maps to an
# outcome, so no state can strand data (an image under a superseded version was once neither
# matched nor erased). Images only arrive under a sharing agreement; an amendment carries them on.
WATCHLIST_RETENTION_BY_STATE: dict[str, str] = {
    AgreementStatus.DRAFT: "none held (images are only received under an active agreement)",
    AgreementStatus.SUBMITTED: "none held (images are only received under an active agreement)",
    AgreementStatus.APPROVED: "held for the amendment's start (carried over from the version it supersedes)",
    AgreementStatus.ACTIVE: "held and matched",
    AgreementStatus.EXPIRED: "erased within the agreement's hours after its last day",
    AgreementStatus.TERMINATED: "erased within the agreement's hours after termination",
    AgreementStatus.SUPERSEDED: "carried to the amendment where its terms permit; the rest erased within the hours",
}


def agreement_sharing_ended_at(agreement: Agreement) -> datetime | None:
    """When sharing under the agreement stopped: termination time, or the end of its last day."""
    if agreement.status == AgreementStatus.TERMINATED and agreement.ended_at:
        return agreement.ended_at
    if agreement.status == AgreementStatus.SUPERSEDED and agreement.ended_at:
        # Images the amendment did not carry over (``watchlist_images_carry_to_amendment``).
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

    ended = Agreement.objects.filter(
        status__in=[AgreementStatus.EXPIRED, AgreementStatus.TERMINATED, AgreementStatus.SUPERSEDED]
    )
    due_agreements = [a.pk for a in ended if (due := agreement_watchlist_erasure_due_at(a)) and due <= at]
    return WatchlistImage.objects.filter(agreement_id__in=due_agreements).exclude(status=ImageStatus.ERASED)


def _watchlist_image_erase(image, run_id: str | None) -> int:
    from governance.watchlist.services import watchlist_image_erase

    certificates = watchlist_image_erase(
        image=image,
        actor=None,
        rule="agreement_ended",
        run_id=run_id,
        reason=f"Agreement {image.agreement.reference} ended; watchlist data must be erased within "
        f"{image.agreement.watchlist_erasure_hours} hours.",
    )
    return len(certificates)


def watchlist_image_hold_keys(image) -> list[tuple[str, str]]:
    """A legal hold on the image itself or on its agreement keeps a watchlist image, under either rule that erases
    it (this one and recognition's ``watchlist_image.deployment_ended``)."""
    return [(HoldScope.WATCHLIST_IMAGE.value, str(image.pk)), (HoldScope.AGREEMENT.value, str(image.agreement_id))]


# Both sides of the sharing see a watchlist image's erasure: the supplying force and the agreement's operator.
watchlist_images_visible = visible_by_parties(
    supplier="supplying_organisation_id", operator="agreement__receiving_organisation_id"
)


retention_rule_register(
    RetentionRule(
        code="watchlist_image.agreement_ended",
        title="Watchlist images after their agreement ends",
        description="The operator's copies of watchlist images and their templates are erased within the agreement's "
        "set hours after it expires, is terminated or is superseded (images its amendment did not carry over): the "
        "backstop behind the per-deployment rule (recognition's watchlist_image.deployment_ended), which erases them "
        "within those hours after the last deployment that used them ends.",
        due=_watchlist_images_due,
        erase=_watchlist_image_erase,
        hold_keys=watchlist_image_hold_keys,
        describe=str,
        visible=watchlist_images_visible,
    )
)


# --- what a legal hold can be placed on (recognition registers alerts) ----------------------------


def _agreements_party_to(actor) -> QuerySet:
    from governance.access import agreements_visible_to, parties_filter

    return agreements_visible_to(actor).filter(
        parties_filter(actor, supplier="supplying_organisation_id", operator="receiving_organisation_id")
    )


def _images_party_to(actor) -> QuerySet:
    from governance.access import images_visible_to
    from governance.watchlist.models import ImageStatus

    return images_visible_to(actor).exclude(status=ImageStatus.ERASED)


hold_target_register(
    HoldTarget(
        scope=HoldScope.AGREEMENT.value,
        title="Agreement (all its images and alerts)",
        candidates=_agreements_party_to,
        parties=lambda a: (a.supplying_organisation_id, a.receiving_organisation_id),
        label=lambda a: f"{a.reference} v{a.version} — {a.title}",
    )
)
hold_target_register(
    HoldTarget(
        scope=HoldScope.WATCHLIST_IMAGE.value,
        title="Watchlist image",
        candidates=_images_party_to,
        parties=lambda i: (i.supplying_organisation_id, i.agreement.receiving_organisation_id),
        label=lambda i: f"Image #{i.pk} {i.subject_reference} ({i.agreement.reference})",
    )
)
