"""Reads of deployments, alerts and disclosures, always scoped to what the user may see
(``recognition.deployments.access``: scope follows the supplier of the matched image)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet, Sum
from django.urls import reverse
from django.utils import timezone

from governance.organisations.models import User
from governance.presentation import SCORE_PLACES, score_text, when_text
from recognition.deployments.access import alerts_reviewable_by, can_see_watchlist_thumbnail, disclosures_visible_to
from recognition.deployments.models import (
    Alert,
    AlertImageShown,
    AlertReview,
    AlertStatus,
    Deployment,
    Disclosure,
    FaceScanCounter,
    FrameDropCounter,
    ReviewImage,
)

_DECISION_WORDS = {"confirm": "you confirmed", "reject": "you rejected"}


def _shown_text(shown: set[str], may_see_reference: bool) -> str:
    """What the review page has served to this reviewer for one alert, in words for the queue."""
    if not may_see_reference:
        return "crop only: the watchlist image is not shared with you (reject only)"
    if {"crop", "reference"} <= shown:
        return "crop and watchlist image"
    if "crop" in shown:
        return "crop only: open it to see the watchlist image"
    if "reference" in shown:
        return "watchlist image only: open it to see the crop"
    return "nothing yet"


def review_queue(*, user: User) -> list[dict]:
    """Pending alerts the user may review, as plain data for the page and its JSON poll.

    Independence of the two reviewers: the queue never says what anyone else decided, nor how many
    decisions an alert already has (a pending alert with one decision could only be a
    confirmation). It says only whether *this* user has decided, and what.
    """
    alerts = (
        alerts_reviewable_by(user)
        .filter(status=AlertStatus.PENDING, erased_at__isnull=True)
        .select_related("deployment", "camera", "agreement")
        .order_by("first_seen_at")
    )
    from governance.watchlist.models import WatchlistImageContent
    from recognition.deployments.review_desk import is_overdue, waiting_text

    mine = {r.alert_id: r for r in AlertReview.objects.filter(alert__in=alerts, reviewer=user)}
    shown: dict[int, set[str]] = {}
    # The review page's images only: a queue thumbnail is not the comparison a confirmation needs.
    for alert_id, image in (
        AlertImageShown.objects.filter(
            alert__in=alerts, reviewer=user, image__in=[ReviewImage.CROP, ReviewImage.REFERENCE]
        )
        .values_list("alert_id", "image")
        .distinct()
    ):
        shown.setdefault(alert_id, set()).add(image)
    stored = set(
        WatchlistImageContent.objects.filter(image_id__in=alerts.values("watchlist_image_id")).values_list(
            "image_id", flat=True
        )
    )
    now = timezone.now()
    rows = []
    for alert in alerts:
        review = mine.get(alert.pk)
        may_see_reference = can_see_watchlist_thumbnail(user, alert) and alert.watchlist_image_id is not None
        level = alert.deployment.review_service_level_minutes
        rows.append(
            {
                "id": alert.pk,
                "deployment": alert.deployment.reference,
                "camera": alert.camera.name,
                "subject_reference": alert.subject_reference,
                "score": round(alert.score, SCORE_PLACES) if alert.score is not None else None,
                "score_text": score_text(alert.score),
                "threshold": alert.threshold,
                "first_seen_at": alert.first_seen_at.isoformat(),
                # Shown in Europe/London whatever the reviewer's browser thinks.
                "first_seen": when_text(alert.first_seen_at, seconds=True),
                "last_seen_at": alert.last_seen_at.isoformat(),
                "sightings": alert.sightings,
                "police_reviewer_required": alert.agreement.police_reviewer_required,
                # What the review page's image endpoints have served to this user (a confirmation needs both).
                "shown": sorted(shown.get(alert.pk, ())),
                "shown_text": _shown_text(shown.get(alert.pk, set()), may_see_reference),
                "my_decision": review.decision if review else None,
                # Words for the page; the code above stays for API clients and tests.
                "my_decision_text": _DECISION_WORDS.get(review.decision, review.decision) if review else "awaiting you",
                # The live desk (recognition.deployments.review_desk): time waiting against the deployment's
                # service level, and the thumbnails this reviewer may see (each one recorded when served).
                "service_level_minutes": level,
                "waiting_text": waiting_text(alert.first_seen_at, now, level),
                "overdue": is_overdue(alert.first_seen_at, now, level),
                "crop_thumbnail": reverse("alert-queue-crop-thumbnail", args=[alert.pk]) if alert.probe_crop else None,
                "reference_thumbnail": reverse("alert-queue-reference-thumbnail", args=[alert.pk])
                if may_see_reference and alert.watchlist_image_id in stored
                else None,
            }
        )
    return rows


def alert_reference_stored(alert: Alert) -> bool:
    """Whether the watchlist image the alert matched still has its bytes (erased images keep provenance only)."""
    from governance.watchlist.models import WatchlistImageContent

    return alert.watchlist_image_id is not None and (
        WatchlistImageContent.objects.filter(image_id=alert.watchlist_image_id).exists()
    )


def alert_reviews_visible(*, user: User, alert: Alert):
    """Other reviewers' decisions are shown only after the user has decided (or once closed)."""
    reviews = list(alert.reviews.order_by("decided_at"))
    if alert.status != AlertStatus.PENDING or any(r.reviewer_id == user.pk for r in reviews):
        return reviews
    return []


def disclosures_awaiting_outcome(*, user: User) -> QuerySet[Disclosure]:
    cutoff = timezone.now() - timedelta(days=settings.OVERSIGHT_OUTCOME_CHASE_DAYS)
    return disclosures_visible_to(user).filter(outcome="", disclosed_at__lte=cutoff).order_by("disclosed_at")


def deployment_figures(*, deployment: Deployment) -> dict:
    totals = FaceScanCounter.objects.filter(camera__deployment=deployment).aggregate(
        faces=Sum("faces_scanned"),
        accepted=Sum("frames_accepted"),
        frames=Sum("frames_processed"),
        dropped=Sum("frames_dropped"),
        shed=Sum("frames_shed"),
        refused=Sum("frames_refused"),
        alerts=Sum("alerts_raised"),
    )
    return {k: v or 0 for k, v in totals.items()}


# --- frame accounting ------------------------------------------------------------------------------

# An hour's frames have all settled this long after the hour ends: a frame is matched within
# seconds or dropped "late" (OVERSIGHT_FRAME_MAX_AGE_SECONDS), and an outcome PostgreSQL could not
# take is retried for about half an hour (recognition.deployments.tasks.FRAME_OUTCOME_RETRIES).
FRAME_SETTLE_MINUTES = 45


def frame_accounting(*, since: datetime | None = None, camera_ids=None) -> list[dict]:
    """Per camera and hour: frames accepted, processed, dropped (and the drops by reason), shed and
    refused at the door; ``outstanding`` = accepted - processed - dropped (frames still in flight,
    or lost uncounted once the hour has ``settled``); ``drops_match``: the reasons add up."""
    counters = FaceScanCounter.objects.all()
    drops = FrameDropCounter.objects.all()
    if since is not None:
        counters = counters.filter(hour__gte=since)
        drops = drops.filter(hour__gte=since)
    if camera_ids is not None:
        counters = counters.filter(camera_id__in=camera_ids)
        drops = drops.filter(camera_id__in=camera_ids)
    reasons: dict[tuple[int, datetime], dict[str, int]] = {}
    for row in drops.values("camera_id", "hour", "reason", "frames"):
        reasons.setdefault((row["camera_id"], row["hour"]), {})[row["reason"]] = row["frames"]
    settled_before = timezone.now() - timedelta(hours=1, minutes=FRAME_SETTLE_MINUTES)
    rows = []
    for c in counters.order_by("hour", "camera_id"):
        by_reason = reasons.get((c.camera_id, c.hour), {})
        rows.append(
            {
                "camera_id": c.camera_id,
                "hour": c.hour,
                "accepted": c.frames_accepted,
                "processed": c.frames_processed,
                "dropped": c.frames_dropped,
                "dropped_by_reason": by_reason,
                "shed": c.frames_shed,
                "refused": c.frames_refused,
                "outstanding": c.frames_accepted - c.frames_processed - c.frames_dropped,
                "drops_match": sum(by_reason.values()) == c.frames_dropped,
                "settled": c.hour < settled_before,
            }
        )
    return rows


def frames_unreconciled(*, since: datetime | None = None, include_unsettled: bool = False) -> list[dict]:
    """Camera-hours that do not add up: accepted != processed + dropped, or drop reasons that do
    not sum to the dropped count. Hours not yet settled are left out unless asked for (their frames
    may still be in flight)."""
    return [
        row
        for row in frame_accounting(since=since)
        if (row["settled"] or include_unsettled) and (row["outstanding"] != 0 or not row["drops_match"])
    ]
