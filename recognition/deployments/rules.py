"""The rules of human review, each named once; ``services.review.alert_review`` and the pages call these names.

DOMAIN.md, "Who uses it": *Operator reviewers (web UI): confirm or reject match alerts; at least two
distinct people per confirmation.* DOMAIN.md, UK GDPR Art. 22 / DPA 2018 ss.49-50: *a decision is
"solely automated" when there is no meaningful human involvement. A reviewer who confirms a match
without seeing the reference image is not meaningful involvement.*
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any


class TwoPerson(Enum):
    CONFIRMED = "confirmed"  # the confirmations complete the rule: the alert is confirmed
    WAITING = "waiting"  # not yet: a second (different) reviewer must decide
    POLICE_REVIEWER_MISSING = "police_reviewer_missing"  # two people, but the agreement's police reviewer is not one


@dataclass(frozen=True)
class Confirmation:
    reviewer_id: int
    as_police_reviewer: bool


def confirmations_with(*, earlier: Sequence[Any], reviewer_id: int, as_police_reviewer: bool) -> list[Confirmation]:
    """An alert's confirmations once this reviewer confirms it: each earlier review that confirmed, and this one.

    The one list that ``two_person_rule`` judges and that the ``alert.confirmed`` event names as its reviewers
    (``earlier``: the alert's ``AlertReview`` rows before this decision)."""
    from recognition.deployments.models import ReviewDecision

    confirmations = [
        Confirmation(review.reviewer_id, review.as_police_reviewer)
        for review in earlier
        if review.decision == ReviewDecision.CONFIRM
    ]
    return [*confirmations, Confirmation(reviewer_id, as_police_reviewer)]


def two_person_rule(*, police_reviewer_required: bool, confirmations: Sequence[Confirmation]) -> TwoPerson:
    """Whether these confirmations confirm an alert.

    DOMAIN.md: *"at least two distinct people per confirmation"* (confirmation: *two reviewers
    agreed*); where the agreement's term ``police_reviewer_required`` says so, *"a police reviewer must
    be one of the two confirmations"* (the King's Cross operator said one of its two officers was often
    a police employee: here the agreement makes it a rule).

    Two distinct people without the required police reviewer is ``POLICE_REVIEWER_MISSING``: the
    service refuses that confirmation, so the second decision is left to a police reviewer.
    """
    people = {c.reviewer_id for c in confirmations}
    if len(people) < 2:
        return TwoPerson.WAITING
    if police_reviewer_required and not any(c.as_police_reviewer for c in confirmations):
        return TwoPerson.POLICE_REVIEWER_MISSING
    return TwoPerson.CONFIRMED


@dataclass(frozen=True)
class Shown:
    """What the review page's image endpoints served to one reviewer for one alert (latest of each)."""

    crop_shown_at: datetime | None = None
    reference_shown_at: datetime | None = None

    @property
    def both(self) -> bool:
        return self.crop_shown_at is not None and self.reference_shown_at is not None


def shown_to(*, alert: Any, reviewer: Any) -> Shown:
    """The record of what ``reviewer`` was shown of ``alert`` (``AlertImageShown``, written server-side)."""
    from django.db.models import Max

    from recognition.deployments.models import AlertImageShown, ReviewImage

    latest = dict(
        AlertImageShown.objects.filter(alert_id=alert.pk, reviewer_id=reviewer.pk)
        .values("image")
        .annotate(at=Max("shown_at"))
        .values_list("image", "at")
    )
    return Shown(crop_shown_at=latest.get(ReviewImage.CROP), reference_shown_at=latest.get(ReviewImage.REFERENCE))


def reviewer_shown_both(shown: Shown) -> bool:
    """Meaningful human involvement (UK GDPR Art. 22; DPA 2018 ss.49-50): a reviewer may *confirm* an
    alert only once they were shown the enrolled (watchlist) image beside the camera crop.

    DOMAIN.md: *"A reviewer who confirms a match without seeing the reference image is not meaningful
    involvement."* Each confirming reviewer must have been shown both, so no confirmation — and no
    disclosure to the police, which needs one — rests on a crop alone. Rejecting needs neither: closing
    an alert as false takes no decision against the person.
    """
    return shown.both
