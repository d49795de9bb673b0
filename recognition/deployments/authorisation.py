"""The police's decisions on a deployment: authorisation by each supplying force's Authorising
Officer, public notice before the start, and the post-deployment review.

College of Policing, Authorised Professional Practice (APP) on live facial recognition:
- "The deployment of LFR must be authorised by an authorising officer of superintendent rank or
  above", who records why the deployment is necessary and proportionate, the watchlist criteria
  and why this location: a police decision, not the operator's. The operator *proposes*
  (``services.deployment_plan``); the AO of every supplying force authorises or refuses here.
- What the officer authorised is what may run: the times, site, cameras, threshold and watchlist
  criteria are kept with the authorisation (``deployment_authorised_terms``); a change to any of them
  voids it (``deployment_authorisations_void_changed``), and go-live needs a current authorisation
  from every supplying force (``deployment_authorisation_require``).
- Deployments are overt: the public is told *before* they start (``deployment_notice_problems``).
- Each deployment is reviewed afterwards by its Authorising Officer: outcomes, false alerts, issues,
  whether to continue (``post_deployment_review_record``), within
  ``OVERSIGHT_POST_DEPLOYMENT_REVIEW_DAYS`` of its end and chased on the officer's home page.

Every service is an entry point: it checks who may act (``recognition.deployments.access``), opens
its own transaction, checks the rule, changes state and audits in that same transaction.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import PermissionRefused, StateConflict, ValidationFailed
from governance.locks import lock_rows
from governance.organisations.models import Organisation, User
from recognition.deployments.access import (
    can_authorise_deployment,
    can_authorise_deployments,
    deployment_check,
    deployment_supplying_forces,
    deployments_visible_to,
    is_authorising_officer_of,
    is_force_authorising_officer,
)
from recognition.deployments.errors import FieldProblem
from recognition.deployments.models import (
    AlertStatus,
    AuthorisationDecision,
    ContinueDecision,
    Deployment,
    DeploymentAuthorisation,
    DeploymentStatus,
    PostDeploymentReview,
)
from recognition.deployments.services.common import deployment_locked_unended

MIN_REASON_CHARS = 10


def _name(actor: User) -> str:
    return actor.get_full_name() or actor.get_username()


def _rank(actor: User) -> str:
    return actor.get_rank_display() if actor.rank else ""


# --- public notice -------------------------------------------------------------------------------


def deployment_notice_problems(*, starts_at: datetime | None, notice_given_on: date | None) -> list[FieldProblem]:
    """APP on LFR: deployments are overt, and the public is told before they start. A notice dated
    after the day the deployment starts is refused (at planning and again at go-live)."""
    if starts_at and notice_given_on and notice_given_on > timezone.localtime(starts_at).date():
        return [
            FieldProblem(
                "public_notice_given_on",
                "notice_after_start",
                "The public notice must be given before the deployment starts, not after.",
            )
        ]
    return []


def deployment_notice_require(deployment: Deployment) -> None:
    problems = deployment_notice_problems(
        starts_at=deployment.starts_at, notice_given_on=deployment.public_notice_given_on
    )
    if problems:
        raise ValidationFailed(
            problems[0].message, code=problems[0].code, details={p.field: [p.message] for p in problems}
        )


# --- what is authorised --------------------------------------------------------------------------


def _utc(moment: datetime) -> str:
    """One spelling per instant, whatever time zone the caller's object carries."""
    return moment.astimezone(UTC).isoformat()


def deployment_authorised_terms(deployment: Deployment) -> dict[str, Any]:
    """What an Authorising Officer authorises, in a form that compares equal exactly when nothing
    the officer decided on has changed: the times, the site, the cameras, the threshold (and why),
    and the watchlist criteria (who and why, from which agreements)."""
    cameras = sorted(deployment.cameras.values_list("name", "location", "direction"))
    return {
        "starts_at": _utc(deployment.starts_at),
        "ends_at": _utc(deployment.ends_at),
        "site": deployment.site,
        "cameras": [list(camera) for camera in cameras],
        "threshold": float(deployment.match_threshold),
        "threshold_justification": deployment.threshold_justification,
        "watchlist_criteria": deployment.watchlist_justification,
        "agreements": sorted(deployment.agreements.values_list("reference", flat=True).distinct()),
    }


def _current_q() -> QuerySet[DeploymentAuthorisation]:
    """Authorisations in force: signed in Oversight, authorising, not voided or superseded."""
    return DeploymentAuthorisation.objects.filter(
        verified=True, decision=AuthorisationDecision.AUTHORISED, voided_at__isnull=True
    )


def _current(deployment: Deployment) -> QuerySet[DeploymentAuthorisation]:
    return _current_q().filter(deployment=deployment)


def deployment_authorisation_status(deployment: Deployment) -> list[dict[str, Any]]:
    """Per supplying force: its current authorisation (or None) and its latest decision — for the
    deployment page, the go-live gate and the reports."""
    rows = []
    for force in deployment_supplying_forces(deployment):
        latest = (
            DeploymentAuthorisation.objects.filter(deployment=deployment, force=force, verified=True)
            .order_by("-created_at", "-pk")
            .first()
        )
        rows.append({"force": force, "current": latest if latest and latest.is_current else None, "latest": latest})
    return rows


def deployment_authorised_by(deployment: Deployment) -> str:
    """Who authorised a deployment, per force, as the report and the regulator pack cite it: the
    decisions in force, and the historical names the operator typed marked unverified."""
    parts = []
    for a in deployment.authorisations.select_related("force").order_by("created_at", "pk"):
        if not a.verified:
            parts.append(f"{a.officer_rank} {a.officer_name} ({a.force.short_name}; unverified: typed by the operator)")
        elif a.is_current:
            parts.append(f"{a.officer_rank} {a.officer_name} ({a.force.short_name})")
    return "; ".join(p.strip() for p in parts) or "Not authorised"


def authorisations_visible_rows(actor: Any, deployment: Deployment) -> tuple[list[dict[str, Any]], list]:
    """The decisions a reader may see: all for the operator and regulators; for the police, only
    their own supply chain's (one supplier never learns of another's part in a deployment)."""
    from governance.access import supply_chain_ids

    rows = deployment_authorisation_status(deployment)
    history = list(deployment.authorisations.select_related("force").order_by("-created_at", "-pk"))
    organisation = getattr(actor, "organisation", None)
    if organisation is not None and organisation.is_police:
        chain = supply_chain_ids(organisation)
        rows = [row for row in rows if row["force"].pk in chain]
        history = [a for a in history if a.force_id in chain]
    return rows, history


def deployment_authorisation_require(deployment: Deployment) -> None:
    """Go-live gate: every supplying force has a current authorisation of exactly what will run.
    Refusal (coded ``authorisation_required``) names each force whose authorisation is missing."""
    terms = deployment_authorised_terms(deployment)
    missing = [
        row["force"]
        for row in deployment_authorisation_status(deployment)
        if row["current"] is None or row["current"].terms != terms
    ]
    if missing:
        names = ", ".join(force.name for force in missing)
        raise StateConflict(
            f"The deployment needs a current authorisation from the Authorising Officer of {names}.",
            code="authorisation_required",
            details={"missing_forces": [force.short_name for force in missing]},
        )


def deployment_authorisations_void_changed(*, actor: User | None, deployment: Deployment, change: str) -> int:
    """Void every current authorisation whose terms differ from the deployment's now (APP: what
    runs is what was authorised). Runs inside the caller's transaction, after its change; audited
    per authorisation. Returns how many were voided."""
    terms = deployment_authorised_terms(deployment)
    voided = 0
    for authorisation in lock_rows(_current(deployment)):
        if authorisation.terms == terms:
            continue
        authorisation.voided_at = timezone.now()
        authorisation.void_reason = f"Changed after it was authorised: {change}"
        authorisation.save(update_fields=["voided_at", "void_reason"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="deployment.authorisation_voided",
            actor=actor,
            target=deployment,
            justification=authorisation.void_reason,
            details={"authorisation": authorisation.pk, "force": authorisation.force.short_name, "change": change},
            organisations=[authorisation.force_id],
        )
        voided += 1
    return voided


def _decision_check(actor: User, deployment: Deployment) -> Deployment:
    """Who may decide: an Authorising Officer (role) of a supplying force (organisation)."""
    deployment_check(actor, deployment, to="view")
    organisation = actor.organisation
    if not is_authorising_officer_of(actor, deployment):
        if not can_authorise_deployments(actor):
            raise PermissionRefused(
                "Only an Authorising Officer of a supplying police force authorises a deployment.",
                code="not_authorising_officer",
            )
        raise PermissionRefused(
            f"{organisation} does not supply this deployment's watchlist; its Authorising Officer does not decide it.",
            code="not_supplying_force",
        )
    return deployment


def _reasons_required(reasons: dict[str, str]) -> None:
    errors = {
        field: ["Write the reasons (at least a sentence)."]
        for field, text in reasons.items()
        if len((text or "").strip()) < MIN_REASON_CHARS
    }
    if errors:
        raise ValidationFailed(
            "The Authorising Officer's written reasons are incomplete.",
            code="authorisation_reasons_required",
            details=errors,
        )


def deployment_authorise(
    *,
    actor: User,
    deployment: Deployment,
    necessity: str,
    proportionality: str,
    watchlist_criteria: str,
    location: str,
) -> DeploymentAuthorisation:
    """An Authorising Officer authorises the deployment for their force, with written reasons on
    necessity, proportionality, the watchlist criteria and the location. The terms it covers (times,
    site, cameras, threshold, watchlist criteria) are kept with it. Supersedes the force's earlier
    decision. Refuses: not an AO (``not_authorising_officer``), an AO of a force that does not
    supply it (``not_supplying_force``), missing reasons, an ended deployment, an authorisation of
    the same terms already current (``already_authorised``)."""
    _decision_check(actor, deployment)
    reasons = {
        "necessity": necessity,
        "proportionality": proportionality,
        "watchlist_criteria": watchlist_criteria,
        "location": location,
    }
    _reasons_required(reasons)
    force = actor.organisation
    with transaction.atomic():
        deployment = deployment_locked_unended(deployment)
        terms = deployment_authorised_terms(deployment)
        earlier = list(
            lock_rows(DeploymentAuthorisation.objects).filter(
                deployment=deployment, force=force, verified=True, voided_at__isnull=True
            )
        )
        if any(a.decision == AuthorisationDecision.AUTHORISED and a.terms == terms for a in earlier):
            raise StateConflict(
                f"{force} has already authorised the deployment as it stands.", code="already_authorised"
            )
        now = timezone.now()
        for previous in earlier:
            previous.voided_at = now
            previous.void_reason = "Superseded by a later decision of the force."
            previous.save(update_fields=["voided_at", "void_reason"])
        authorisation = DeploymentAuthorisation.objects.create(
            deployment=deployment,
            force=force,
            decision=AuthorisationDecision.AUTHORISED,
            officer=actor,
            officer_name=_name(actor),
            officer_rank=_rank(actor),
            verified=True,
            **{field: text.strip() for field, text in reasons.items()},
            terms=terms,
            decided_at=now,
        )
        audit_record(
            action=AuditAction.ALTERATION,
            event="deployment.authorised",
            actor=actor,
            target=deployment,
            justification=authorisation.necessity,
            details={
                "authorisation": authorisation.pk,
                "force": force.short_name,
                "officer_rank": actor.rank or None,
                "rank_below_superintendent": actor.rank_below_superintendent,
                # Not the agreements: the event is read by this force, which must not learn another
                # supplier's agreement (``Deployment.concerned_organisation_ids``).
                "terms": {key: value for key, value in terms.items() if key != "agreements"},
                "superseded": [a.pk for a in earlier],
            },
        )
    return authorisation


def deployment_authorisation_refuse(*, actor: User, deployment: Deployment, reasons: str) -> DeploymentAuthorisation:
    """An Authorising Officer refuses the deployment for their force, with reasons. A refusal
    withdraws the force's current authorisation (the deployment cannot go live until a later
    authorisation). Same checks as ``deployment_authorise``."""
    _decision_check(actor, deployment)
    _reasons_required({"refusal_reasons": reasons})
    force = actor.organisation
    with transaction.atomic():
        deployment = deployment_locked_unended(deployment)
        now = timezone.now()
        earlier = list(
            lock_rows(DeploymentAuthorisation.objects).filter(
                deployment=deployment, force=force, verified=True, voided_at__isnull=True
            )
        )
        for previous in earlier:
            previous.voided_at = now
            previous.void_reason = "Withdrawn: the force refused the deployment."
            previous.save(update_fields=["voided_at", "void_reason"])
        refusal = DeploymentAuthorisation.objects.create(
            deployment=deployment,
            force=force,
            decision=AuthorisationDecision.REFUSED,
            officer=actor,
            officer_name=_name(actor),
            officer_rank=_rank(actor),
            verified=True,
            refusal_reasons=reasons.strip(),
            terms=deployment_authorised_terms(deployment),
            decided_at=now,
        )
        audit_record(
            action=AuditAction.ALTERATION,
            event="deployment.authorisation_refused",
            actor=actor,
            target=deployment,
            justification=refusal.refusal_reasons,
            details={"authorisation": refusal.pk, "force": force.short_name, "withdrawn": [a.pk for a in earlier]},
        )
    return refusal


def deployments_awaiting_authorisation(actor: User) -> QuerySet[Deployment]:
    """Deployments not ended that the actor's force supplies and has no current decision on (its AO's
    home panel). Empty for anyone but an Authorising Officer of a force."""
    organisation = getattr(actor, "organisation", None)
    if organisation is None or not is_ao(actor):
        return Deployment.objects.none()
    decided = DeploymentAuthorisation.objects.filter(
        deployment_id=OuterRef("pk"), force_id=organisation.pk, verified=True, voided_at__isnull=True
    )
    candidates = (
        deployments_visible_to(actor)
        .exclude(status=DeploymentStatus.ENDED)
        .exclude(Exists(decided))
        .order_by("starts_at")
    )
    return candidates.filter(pk__in=[d.pk for d in candidates if can_authorise_deployment(actor, d)])


def is_ao(actor: User) -> bool:
    return is_force_authorising_officer(actor)


# --- after the deployment ------------------------------------------------------------------------


def post_deployment_review_due_on(deployment: Deployment) -> date | None:
    """APP: each deployment is reviewed afterwards; Oversight asks for it within
    ``OVERSIGHT_POST_DEPLOYMENT_REVIEW_DAYS`` of the end."""
    end = deployment.ended_at or deployment.ends_at
    if deployment.status != DeploymentStatus.ENDED or end is None:
        return None
    return timezone.localtime(end).date() + timedelta(days=settings.OVERSIGHT_POST_DEPLOYMENT_REVIEW_DAYS)


def deployment_review_figures(deployment: Deployment) -> dict[str, int]:
    """The figures a post-deployment review looks at (and keeps, as they were when it was written)."""
    from django.db.models import Sum

    alerts = deployment.alerts.all()
    faces = deployment.cameras.aggregate(n=Sum("counters__faces_scanned"))["n"] or 0
    return {
        "faces_scanned": int(faces),
        "alerts": alerts.count(),
        "confirmed": alerts.filter(status=AlertStatus.CONFIRMED).count(),
        "false_alerts": alerts.filter(status=AlertStatus.FALSE_ALERT).count(),
        "disclosed": alerts.filter(disclosures__isnull=False).distinct().count(),
    }


def post_deployment_review_record(
    *, actor: User, deployment: Deployment, outcomes: str, false_alerts: str, issues: str, continue_decision: str
) -> PostDeploymentReview:
    """The Authorising Officer of a supplying force reviews the ended deployment for their force:
    outcomes, false alerts, issues, whether to continue. Once per force; the figures of the time are
    kept with it. Refuses: not an AO of a supplying force, not ended, incomplete, already reviewed."""
    _decision_check(actor, deployment)
    errors = {
        field: ["Write what was found (at least a sentence)."]
        for field, text in {"outcomes": outcomes, "false_alerts": false_alerts, "issues": issues}.items()
        if len((text or "").strip()) < MIN_REASON_CHARS
    }
    if continue_decision not in ContinueDecision.values:
        errors["continue_decision"] = ["Say whether deployments of this kind should continue."]
    if errors:
        raise ValidationFailed("The post-deployment review is incomplete.", code="review_incomplete", details=errors)
    force = actor.organisation
    with transaction.atomic():
        deployment = lock_rows(Deployment.objects).get(pk=deployment.pk)
        if deployment.status != DeploymentStatus.ENDED:
            raise StateConflict("A deployment is reviewed after it has ended.", code="deployment_not_ended")
        if not _current(deployment).filter(force=force).exists():
            raise StateConflict(
                f"{force} did not authorise this deployment in Oversight; its review is for the force that did.",
                code="not_authorised_by_force",
            )
        if PostDeploymentReview.objects.filter(deployment=deployment, force=force).exists():
            raise StateConflict(f"{force} has already reviewed this deployment.", code="already_reviewed")
        figures = deployment_review_figures(deployment)
        review = PostDeploymentReview.objects.create(
            deployment=deployment,
            force=force,
            reviewed_by=actor,
            reviewed_by_name=_name(actor),
            reviewed_by_rank=_rank(actor),
            outcomes=outcomes.strip(),
            false_alerts=false_alerts.strip(),
            issues=issues.strip(),
            continue_decision=continue_decision,
            figures=figures,
            reviewed_at=timezone.now(),
        )
        due = post_deployment_review_due_on(deployment)
        audit_record(
            action=AuditAction.ALTERATION,
            event="deployment.post_reviewed",
            actor=actor,
            target=deployment,
            justification=review.outcomes,
            details={
                "review": review.pk,
                "force": force.short_name,
                "continue": continue_decision,
                "figures": figures,
                "late": bool(due and timezone.localdate() > due),
            },
        )
    return review


def post_deployment_reviews_awaited(actor: User) -> list[dict[str, Any]]:
    """Ended deployments the actor's force supplies and has not reviewed yet, oldest first, each with
    its due date and whether it is overdue (the AO's home panel chases them until done)."""
    if not is_ao(actor):
        return []
    organisation: Organisation = actor.organisation
    reviewed = PostDeploymentReview.objects.filter(deployment_id=OuterRef("pk"), force_id=organisation.pk)
    authorised = _current_q().filter(deployment_id=OuterRef("pk"), force_id=organisation.pk)
    ended = (
        deployments_visible_to(actor)
        .filter(status=DeploymentStatus.ENDED)
        .filter(Exists(authorised))
        .exclude(Exists(reviewed))
        .order_by("ended_at", "pk")
    )
    today = timezone.localdate()
    rows = []
    for deployment in ended:
        if not is_authorising_officer_of(actor, deployment):
            continue
        due = post_deployment_review_due_on(deployment)
        rows.append({"deployment": deployment, "due_on": due, "overdue": bool(due and today > due)})
    return rows
