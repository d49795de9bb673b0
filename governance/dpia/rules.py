"""The DPIA rules, each named once: what counts as covering, what "in force" means, what a DPIA
must state before review, and when prior consultation is needed. Services, gates, pages and the
agreement register all call these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from governance.dpia.models import DPIA, DPIAStatus, RiskLevel

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


def agreement_dpia_problem(agreement) -> DPIAProblem | None:
    """Is there an approved, in-date DPIA covering this agreement? (``None``: yes)."""
    return _first_in_force(
        dpias_covering_agreement(agreement),
        missing=DPIAProblem(
            "dpia_missing",
            f"No approved DPIA covers {agreement.reference}: the sharing of biometric watchlist images "
            "is high-risk processing and needs one before approval (UK GDPR Art. 35; DPA 2018 s.64).",
        ),
    )


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
