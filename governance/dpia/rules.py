"""The DPIA rules, each named once: what counts as covering, what "in force" means, what a DPIA
must state before review, and when prior consultation is needed. Services, gates, pages and the
agreement register all call these names.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from governance.dpia.models import DPIA, DPIAStatus, PolicyDocument, RiskLevel

# How far ahead of its review date a DPIA starts warning (dashboard, covered agreements and deployments).
REVIEW_WARNING_DAYS = 30


@dataclass(frozen=True)
class DPIAProblem:
    code: str
    message: str
    dpia: DPIA | None = None


def dpias_covering_agreement(agreement) -> QuerySet[DPIA]:
    """Approved DPIAs covering the agreement. Coverage is by register reference, so an amendment is
    covered by the DPIA of the agreement it amends (until that DPIA is revised)."""
    return DPIA.objects.filter(status=DPIAStatus.APPROVED, agreements__reference=agreement.reference).distinct()


def dpias_covering_deployment(deployment_id: int) -> QuerySet[DPIA]:
    return DPIA.objects.filter(status=DPIAStatus.APPROVED, deployments__deployment_id=deployment_id).distinct()


def dpia_in_force_problem(dpia: DPIA, *, today: date | None = None) -> DPIAProblem | None:
    """Why an approved DPIA cannot be relied on now (``None``: it can)."""
    today = today or timezone.localdate()
    if dpia.status != DPIAStatus.APPROVED:
        return DPIAProblem("dpia_not_approved", f"{dpia.reference} v{dpia.version} is not approved.", dpia)
    if dpia.review_on < today:
        return DPIAProblem(
            "dpia_review_overdue",
            f"{dpia.reference} v{dpia.version} was due for review on {dpia.review_on:%d %B %Y}; "
            "review it (a new version) before relying on it.",
            dpia,
        )
    if dpia.flagged_for_review_at:
        return DPIAProblem(
            "dpia_flagged_for_review",
            f"{dpia.reference} v{dpia.version} is flagged for review: {dpia.flag_reason}",
            dpia,
        )
    return None


def _first_in_force(candidates: QuerySet[DPIA], *, missing: DPIAProblem) -> DPIAProblem | None:
    problem = missing
    for dpia in candidates.order_by("-approved_at"):
        problem = dpia_in_force_problem(dpia)
        if problem is None:
            return None
    return problem


def agreement_sharing_began_on(agreement) -> date:
    """The day images began to flow under the agreement (its activation, or its start date for one
    recorded retrospectively)."""
    return timezone.localdate(agreement.activated_at) if agreement.activated_at else agreement.starts_on


def agreement_judged_at_its_time(agreement) -> bool:
    """An agreement that has ended, or that was recorded after the fact, is judged on what was in force
    while it ran, never on what was approved since."""
    from governance.agreements.models import ENDED_STATES

    return agreement.recorded_retrospectively or agreement.status in ENDED_STATES


def agreement_dpia_problem(agreement) -> DPIAProblem | None:
    """Is there an approved, in-date DPIA covering this agreement? (``None``: yes).

    UK GDPR Art. 35(1) / DPA 2018 s.64(1): the controller carries out the assessment "prior to the
    processing". So an agreement that has ended, or was recorded after the fact, is judged on what was
    in force while it ran: only a DPIA approved by the day sharing began (and not then past its review
    date) counts — a DPIA approved later never erases "no DPIA while sharing" (King's Cross 2016-2018).
    """
    if agreement_judged_at_its_time(agreement):
        return _dpia_problem_at_the_time(agreement)
    return _first_in_force(
        dpias_covering_agreement(agreement),
        missing=DPIAProblem(
            "dpia_missing",
            f"No approved DPIA covers {agreement.reference}: the sharing of biometric watchlist images "
            "is high-risk processing and needs one before approval (UK GDPR Art. 35; DPA 2018 s.64).",
        ),
    )


def _dpia_problem_at_the_time(agreement) -> DPIAProblem | None:
    began = agreement_sharing_began_on(agreement)
    candidates = DPIA.objects.filter(
        status__in=(DPIAStatus.APPROVED, DPIAStatus.SUPERSEDED),
        agreements__reference=agreement.reference,
        approved_at__isnull=False,
    ).distinct()
    then = [d for d in candidates.order_by("-approved_at") if timezone.localdate(d.approved_at) <= began]
    if not then:
        return DPIAProblem(
            "dpia_missing",
            f"No DPIA was approved for {agreement.reference} before it began sharing on {began:%d %B %Y}: biometric "
            f"watchlist images were shared from {began:%d %B %Y} to {agreement.ends_on:%d %B %Y} without one "
            "(UK GDPR Art. 35; DPA 2018 s.64). A DPIA approved later does not change what happened then.",
        )
    in_date = [d for d in then if d.review_on >= began]
    if not in_date:
        dpia = then[0]
        return DPIAProblem(
            "dpia_review_overdue",
            f"{dpia.reference} v{dpia.version} was already past its review date ({dpia.review_on:%d %B %Y}) when "
            f"{agreement.reference} began sharing on {began:%d %B %Y}.",
            dpia,
        )
    return None


def deployment_dpia_problem(deployment_id: int, *, running_weights_sha256: str | None) -> DPIAProblem | None:
    """Is there an approved, in-date DPIA covering this deployment whose accuracy evidence was measured
    with the weights the engine runs now? (``None``: yes)."""
    candidates = dpias_covering_deployment(deployment_id)
    if not candidates.exists():
        return DPIAProblem(
            "dpia_missing",
            "No approved DPIA covers this deployment; it cannot go live without one (UK GDPR Art. 35; DPA 2018 s.64).",
        )
    if running_weights_sha256 is not None:
        candidates = candidates.filter(
            deployments__deployment_id=deployment_id, deployments__weights_sha256=running_weights_sha256
        )
        if not candidates.exists():
            return DPIAProblem(
                "dpia_cites_other_weights",
                "The engine runs weights other than those the DPIA's accuracy evidence was measured with: the "
                "processing changed, so the DPIA must be reviewed (a new version) before the deployment goes live "
                "(UK GDPR Art. 35(11)).",
            )
    return _first_in_force(candidates, missing=DPIAProblem("dpia_missing", "No approved DPIA covers this deployment."))


def dpia_submission_gaps(dpia: DPIA) -> list[str]:
    """What Art. 35(7) / s.64 expect a DPIA to state that this one does not yet."""
    gaps = [
        label
        for name, label in (
            ("nature", "the nature of the processing"),
            ("scope", "its scope"),
            ("context", "its context"),
            ("purposes", "its purposes"),
            ("necessity", "necessity"),
            ("proportionality", "proportionality"),
            ("safeguards", "the measures and safeguards (DPA 2018 s.64(3)(d))"),
            ("dpo_advice", "the DPO's advice"),
            ("subject_views", "the views of data subjects or their representatives"),
        )
        if not getattr(dpia, name).strip()
    ]
    if dpia.dpo_advice_followed is None:
        gaps.append("whether the DPO's advice was followed")
    elif dpia.dpo_advice_followed is False and not dpia.dpo_advice_response.strip():
        gaps.append("why the DPO's advice was not followed")
    if not dpia.risks.exists():
        gaps.append("the risks to rights and freedoms")
    if not dpia.agreements.exists() and not dpia.deployments.exists():
        gaps.append("the agreements or deployments it covers")
    for row in dpia.deployments.all():
        if not row.demographic_evidence.strip() or not row.monitoring_plan.strip():
            gaps.append(f"equality evidence and monitoring plan for {row.deployment_reference}")
    return gaps


def prior_consultation_required(dpia: DPIA) -> bool:
    """s.65 / Art. 36: a residual risk that stays high needs the Commissioner consulted first."""
    return dpia.risks.filter(residual_risk=RiskLevel.HIGH).exists()


def dpia_review_warning(dpia: DPIA, *, today: date | None = None) -> str | None:
    """The warning a DPIA raises as its review date approaches or passes (dashboard, covered records)."""
    today = today or timezone.localdate()
    if dpia.status != DPIAStatus.APPROVED:
        return None
    if dpia.flagged_for_review_at:
        return f"{dpia.reference} v{dpia.version} is flagged for review: {dpia.flag_reason}"
    if dpia.review_on < today:
        return f"{dpia.reference} v{dpia.version} was due for review on {dpia.review_on:%d %B %Y}."
    if dpia.review_on <= today + timedelta(days=REVIEW_WARNING_DAYS):
        return f"{dpia.reference} v{dpia.version} is due for review on {dpia.review_on:%d %B %Y}."
    return None


def policy_review_warning(policy, *, today: date | None = None) -> str | None:
    """The warning an approved appropriate policy document raises as its review date approaches or
    passes (the same horizon as a DPIA's)."""
    from governance.dpia.models import PolicyStatus

    today = today or timezone.localdate()
    if policy.status != PolicyStatus.APPROVED or policy.erased_at:
        return None
    if policy.review_on < today:
        return f"{policy.reference} v{policy.version} was due for review on {policy.review_on:%d %B %Y}."
    if policy.review_on <= today + timedelta(days=REVIEW_WARNING_DAYS):
        return f"{policy.reference} v{policy.version} is due for review on {policy.review_on:%d %B %Y}."
    return None


# --- separation of duties -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SignOffProblem:
    code: str
    message: str


def dpia_sign_off_problem(dpia: DPIA, actor) -> SignOffProblem | None:
    """May ``actor`` sign the DPIA off for the controller? (``None``: yes).

    UK GDPR Art. 35(2): "The controller shall seek the advice of the data protection officer, where
    designated, when carrying out a data protection impact assessment." The advice is the DPO's and
    the sign-off the controller's: the person who wrote the DPIA cannot approve it, nor can the DPO
    who gave the advice — the approval is another person's, and the advice stays recorded apart.
    """
    if dpia.drafted_by_id and dpia.drafted_by_id == actor.pk:
        return SignOffProblem(
            "author_cannot_approve",
            "You wrote this DPIA: the controller's sign-off must be another person's (UK GDPR Art. 35(2)).",
        )
    if dpia.dpo_advice_by_id and dpia.dpo_advice_by_id == actor.pk:
        return SignOffProblem(
            "dpo_advice_giver_cannot_approve",
            "You recorded the DPO's advice on this DPIA: the advice is recorded apart from the controller's sign-off, "
            "which must be another person's (UK GDPR Art. 35(2)).",
        )
    return None


def policy_sign_off_problem(policy, actor) -> SignOffProblem | None:
    """May ``actor`` approve this appropriate policy document? (``None``: yes).

    DPA 2018 s.42 and Sch. 1 Part 4 make the controller answerable for its appropriate policy
    document; as for a DPIA, the person who wrote it cannot also approve it for the controller.
    """
    if policy.drafted_by_id and policy.drafted_by_id == actor.pk:
        return SignOffProblem(
            "author_cannot_approve",
            "You wrote this policy document: another person of the controller must approve it.",
        )
    return None


def approved_policy_document(controller_ids, *, today: date | None = None):
    """The controller's approved, in-date, unerased appropriate policy document (``None``: none).

    DPA 2018 s.42(1)-(2) (law enforcement, the supplying force) and Sch. 1 Part 4 para 39 (UK GDPR,
    the operator): the controller has "an appropriate policy document in place" when it relies on
    the condition. One lookup for agreement approval and go-live.
    """
    from governance.dpia.models import PolicyDocument, PolicyStatus

    today = today or timezone.localdate()
    return (
        PolicyDocument.objects.filter(
            controller_id__in=[i for i in controller_ids if i],
            status=PolicyStatus.APPROVED,
            erased_at__isnull=True,
            review_on__gte=today,
        )
        .order_by("-approved_at")
        .first()
    )


# --- appropriate policy documents: how long they are kept (DPA 2018 s.42(3)) ---------------------------------------
POLICY_KEPT_MONTHS = 6  # s.42(3)


def _months_after(day: date, months: int) -> date:
    """The same day ``months`` later, or that month's last day (31 August + 6 months = 28/29 February)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def policy_kept_until(ended_on: date | None) -> date | None:
    """The last day the document is kept: six months after the processing ended (``None`` while
    it goes on). Stored on the record (``kept_until``) so the sweep finds what is due by an index."""
    return _months_after(ended_on, POLICY_KEPT_MONTHS) if ended_on else None


def policy_erasure_due_on(policy: PolicyDocument) -> date | None:
    """The first day the document may no longer be kept."""
    return policy.kept_until + timedelta(days=1) if policy.kept_until else None
