"""The lifecycle of a DPIA: draft → in review → approved / rejected; an approved (or rejected) DPIA
changes only by revision, which makes the next version (a draft) and, once that is approved,
supersedes the one before. Plus the gates the rest of the system calls.

Every function here is an entry point: it checks who may act (``governance.dpia.access``), opens
its own transaction, checks the rule (``governance.dpia.rules``), changes state and records the
audit event in that same transaction. The event's target is the DPIA, whose
``concerned_organisation_ids()`` scopes it in the audit log.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from governance.access import agreement_party_ids, agreements_visible_to
from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.dpia import registry
from governance.dpia.access import can_draft_dpia, dpia_check
from governance.dpia.models import (
    DPIA,
    DPIADeployment,
    DPIARisk,
    DPIAStatus,
    Likelihood,
    Severity,
)
from governance.dpia.rules import (
    deployment_dpia_problem,
    dpia_submission_gaps,
    prior_consultation_required,
)
from governance.dpia.versions import previous_version_supersede
from governance.errors import PermissionRefused, StateConflict, ValidationFailed
from governance.locks import lock_rows
from governance.organisations.models import Organisation, User
from governance.states import locked_in_state

# The sections a DPO writes (Art. 35(7); s.64). Coverage, risks and sign-offs have their own services.
EDITABLE_FIELDS: tuple[str, ...] = (
    "title",
    "nature",
    "scope",
    "context",
    "purposes",
    "necessity",
    "proportionality",
    "safeguards",
    "dpo_advice",
    "dpo_advice_by_name",
    "dpo_advice_followed",
    "dpo_advice_response",
    "subject_views",
    "review_on",
)
RISK_FIELDS: tuple[str, ...] = ("title", "description", "likelihood", "severity", "measures", "residual_risk")


def _name(actor: User | None) -> str:
    return (actor.get_full_name() or actor.get_username()) if actor else "system"


def _clean(obj, **kwargs) -> None:
    try:
        obj.full_clean(**kwargs)
    except ValidationError as error:
        raise ValidationFailed("The DPIA is not valid.", details=error.message_dict) from error


def _next_reference() -> str:
    year = timezone.localdate().year
    count = DPIA.objects.filter(reference__startswith=f"DPIA-{year}-").values("reference").distinct().count()
    return f"DPIA-{year}-{count + 1:04d}"


def _snapshot(dpia: DPIA) -> dict[str, str]:
    return {name: str(getattr(dpia, name)) for name in EDITABLE_FIELDS}


def _sync_scope(dpia: DPIA) -> None:
    """The organisations the DPIA concerns, stored where the visibility query can use them: the
    controller and its force, the parties of each agreement it covers, and the operator of each
    deployment it covers. Not every supplier of a covered deployment: the DPIA names all of that
    deployment's agreements, and one force must not read another's (as for deployment events)."""
    ids = {dpia.controller_id}
    if dpia.controller.parent_id:
        ids.add(dpia.controller.parent_id)
    for agreement in dpia.agreements.select_related("supplying_organisation"):
        ids |= agreement_party_ids(agreement)
    ids |= set(dpia.deployments.values_list("operator_id", flat=True))
    dpia.concerned_organisations.set(Organisation.objects.filter(pk__in=ids))


# --- drafting ------------------------------------------------------------------------------------


def dpia_draft(*, actor: User, fields: dict[str, Any]) -> DPIA:
    """Start a DPIA (version 1, draft) with the actor's organisation as the controller."""
    if not can_draft_dpia(actor):
        raise PermissionRefused("Only a data protection officer of a controller can write a DPIA.")
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed("Unknown DPIA fields.", details=sorted(unknown))
    with transaction.atomic():
        dpia = DPIA(**fields, reference=_next_reference(), version=1, controller=actor.organisation, drafted_by=actor)
        if dpia.dpo_advice.strip():
            dpia.dpo_advice_by, dpia.dpo_advice_at = actor, timezone.now()
        _clean(dpia)
        dpia.save()
        _sync_scope(dpia)
        audit_record(
            action=AuditAction.COLLECTION,
            event="dpia.drafted",
            actor=actor,
            target=dpia,
            details={"reference": dpia.reference, "version": dpia.version},
        )
    return dpia


def dpia_update(*, actor: User, dpia: DPIA, fields: dict[str, Any]) -> DPIA:
    """Edit a draft's sections. An approved DPIA changes only through ``dpia_revise``."""
    dpia_check(actor, dpia, to="change")
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed("Unknown DPIA fields.", details=sorted(unknown))
    with transaction.atomic():
        dpia = locked_in_state(dpia, DPIAStatus.DRAFT, action="edit the DPIA")
        before = _snapshot(dpia)
        for name, value in fields.items():
            setattr(dpia, name, value)
        if str(dpia.dpo_advice) != before["dpo_advice"]:
            # The advice is recorded as the writer's own (Art. 35(2)): who gave it and when, apart from the sign-off.
            dpia.dpo_advice_by, dpia.dpo_advice_at = (
                (actor, timezone.now()) if dpia.dpo_advice.strip() else (None, None)
            )
        _clean(dpia)
        dpia.save()
        after = _snapshot(dpia)
        changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if changes:
            audit_record(
                action=AuditAction.ALTERATION,
                event="dpia.edited",
                actor=actor,
                target=dpia,
                details={"changed": sorted(changes)},
            )
    return dpia


def dpia_set_agreements(*, actor: User, dpia: DPIA, agreement_ids: list[int]) -> DPIA:
    """Choose the agreements the DPIA covers: ones the actor sees and the controller is party to."""
    dpia_check(actor, dpia, to="change")
    with transaction.atomic():
        dpia = locked_in_state(dpia, DPIAStatus.DRAFT, action="change what the DPIA covers")
        chosen = list(agreements_visible_to(actor).filter(pk__in=agreement_ids))
        if len(chosen) != len(set(agreement_ids)):
            raise ValidationFailed("Unknown agreement.", code="agreement_not_found")
        for agreement in chosen:
            if dpia.controller_id not in agreement_party_ids(agreement):
                raise ValidationFailed(f"{dpia.controller} is not party to {agreement.reference}.", code="not_a_party")
        dpia.agreements.set(chosen)
        _sync_scope(dpia)
        audit_record(
            action=AuditAction.ALTERATION,
            event="dpia.agreements_set",
            actor=actor,
            target=dpia,
            details={"agreements": sorted(f"{a.reference} v{a.version}" for a in chosen)},
        )
    return dpia


def _evidence_fields(source: registry.DeploymentSource, threshold: float) -> dict[str, Any]:
    sha256, label = source.running_weights()
    evidence = source.evidence_at(threshold)
    return {
        "threshold": threshold,
        "weights_sha256": sha256,
        "weights_label": label,
        "measured": evidence.as_json() if evidence else {},
    }


def dpia_cover_deployment(
    *, actor: User, dpia: DPIA, deployment_id: int, demographic_evidence: str, monitoring_plan: str
) -> DPIADeployment:
    """Add (or update) a deployment the DPIA covers, with its equality and accuracy evidence. The
    threshold, the engine's measured figures and the weights' SHA-256 come from recognition."""
    dpia_check(actor, dpia, to="change")
    source = registry.deployment_source()
    facts = source.describe(int(deployment_id)) if source else None
    if facts is None:
        raise ValidationFailed("No such deployment.", code="deployment_not_found")
    if dpia.controller_id != facts.operator_id and dpia.controller_id not in facts.supplier_ids:
        raise ValidationFailed(
            f"{dpia.controller} neither operates nor supplies {facts.reference}.", code="not_a_party"
        )
    with transaction.atomic():
        dpia = locked_in_state(dpia, DPIAStatus.DRAFT, action="change what the DPIA covers")
        row, _ = DPIADeployment.objects.update_or_create(
            dpia=dpia,
            deployment_id=facts.pk,
            defaults={
                "deployment_reference": facts.reference,
                "deployment_name": facts.name,
                "operator_id": facts.operator_id,
                "demographic_evidence": demographic_evidence.strip(),
                "monitoring_plan": monitoring_plan.strip(),
                **_evidence_fields(source, facts.threshold),
            },
        )
        _sync_scope(dpia)
        audit_record(
            action=AuditAction.ALTERATION,
            event="dpia.deployment_covered",
            actor=actor,
            target=dpia,
            details={"deployment": facts.reference, "threshold": row.threshold, "weights_sha256": row.weights_sha256},
        )
    return row


def dpia_uncover_deployment(*, actor: User, dpia: DPIA, deployment_id: int) -> None:
    dpia_check(actor, dpia, to="change")
    with transaction.atomic():
        dpia = locked_in_state(dpia, DPIAStatus.DRAFT, action="change what the DPIA covers")
        row = dpia.deployments.filter(deployment_id=deployment_id).first()
        if row is None:
            return
        row.delete()
        _sync_scope(dpia)
        audit_record(
            action=AuditAction.ALTERATION,
            event="dpia.deployment_uncovered",
            actor=actor,
            target=dpia,
            details={"deployment": row.deployment_reference},
        )


def _risk_values(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(RISK_FIELDS)
    if unknown:
        raise ValidationFailed("Unknown risk fields.", details=sorted(unknown))
    values = dict(fields)
    for name, choices in (("likelihood", Likelihood), ("severity", Severity)):
        if name in values:
            try:
                values[name] = int(values[name])
            except (TypeError, ValueError):
                raise ValidationFailed(f"Choose a {name}.", details={name: ["Invalid."]}) from None
            if values[name] not in choices.values:
                raise ValidationFailed(f"Choose a {name}.", details={name: ["Invalid."]})
    return values


def dpia_risk_add(*, actor: User, dpia: DPIA, fields: dict[str, Any]) -> DPIARisk:
    dpia_check(actor, dpia, to="change")
    values = _risk_values(fields)
    with transaction.atomic():
        dpia = locked_in_state(dpia, DPIAStatus.DRAFT, action="change the risks")
        risk = DPIARisk(dpia=dpia, position=dpia.risks.count() + 1, **values)
        _clean(risk, exclude=["dpia"])
        risk.save()
        audit_record(
            action=AuditAction.ALTERATION,
            event="dpia.risk_added",
            actor=actor,
            target=dpia,
            details={
                "risk": risk.title,
                "likelihood": risk.likelihood,
                "severity": risk.severity,
                "residual_risk": risk.residual_risk,
            },
        )
    return risk


def dpia_risk_update(*, actor: User, risk: DPIARisk, fields: dict[str, Any]) -> DPIARisk:
    dpia_check(actor, risk.dpia, to="change")
    values = _risk_values(fields)
    with transaction.atomic():
        dpia = locked_in_state(risk.dpia, DPIAStatus.DRAFT, action="change the risks")
        risk = lock_rows(DPIARisk.objects).get(pk=risk.pk, dpia=dpia)
        for name, value in values.items():
            setattr(risk, name, value)
        _clean(risk, exclude=["dpia"])
        risk.save()
        audit_record(
            action=AuditAction.ALTERATION,
            event="dpia.risk_edited",
            actor=actor,
            target=dpia,
            details={"risk": risk.title, "changed": sorted(values)},
        )
    return risk


def dpia_risk_remove(*, actor: User, risk: DPIARisk) -> None:
    dpia_check(actor, risk.dpia, to="change")
    with transaction.atomic():
        dpia = locked_in_state(risk.dpia, DPIAStatus.DRAFT, action="change the risks")
        DPIARisk.objects.filter(pk=risk.pk, dpia=dpia).delete()
        audit_record(
            action=AuditAction.ALTERATION,
            event="dpia.risk_removed",
            actor=actor,
            target=dpia,
            details={"risk": risk.title},
        )


def dpia_record_prior_consultation(
    *, actor: User, dpia: DPIA, consulted_on: date, reference: str, outcome: str
) -> DPIA:
    """Record the prior consultation with the Commissioner (s.65 / Art. 36): date, reference, outcome."""
    dpia_check(actor, dpia, to="consult")
    if not reference.strip() or not outcome.strip():
        raise ValidationFailed("Give the consultation's reference and its outcome.", code="consultation_incomplete")
    if consulted_on > timezone.localdate():
        raise ValidationFailed("The consultation date cannot be in the future.", code="consultation_in_future")
    with transaction.atomic():
        dpia = locked_in_state(dpia, DPIAStatus.DRAFT, DPIAStatus.IN_REVIEW, action="record the prior consultation")
        dpia.consultation_on = consulted_on
        dpia.consultation_reference = reference.strip()
        dpia.consultation_outcome = outcome.strip()
        dpia.save(update_fields=["consultation_on", "consultation_reference", "consultation_outcome", "updated_at"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="dpia.prior_consultation_recorded",
            actor=actor,
            target=dpia,
            details={"consulted_on": consulted_on.isoformat(), "reference": reference.strip()},
        )
    return dpia


# --- review and sign-off -------------------------------------------------------------------------


def dpia_submit(*, actor: User, dpia: DPIA) -> DPIA:
    """Send a complete draft for the controller's review. Refused while a section is missing."""
    dpia_check(actor, dpia, to="submit")
    with transaction.atomic():
        dpia = locked_in_state(dpia, DPIAStatus.DRAFT, action="send the DPIA for review")
        gaps = dpia_submission_gaps(dpia)
        if gaps:
            raise ValidationFailed(
                "The DPIA is incomplete: it must state " + ", ".join(gaps) + ".", code="dpia_incomplete", details=gaps
            )
        dpia.status = DPIAStatus.IN_REVIEW
        dpia.submitted_at = timezone.now()
        dpia.submitted_by_name = _name(actor)
        dpia.save(update_fields=["status", "submitted_at", "submitted_by_name", "updated_at"])
        audit_record(action=AuditAction.ALTERATION, event="dpia.submitted", actor=actor, target=dpia)
    return dpia


def dpia_approve(*, actor: User, dpia: DPIA, capacity: str = "") -> DPIA:
    """The controller's sign-off, by another person than the writer and the advising DPO
    (``dpia_check(to="approve")``: Art. 35(2)). Refused while a residual risk stays high and the prior
    consultation with the Commissioner is not recorded (s.65), or with a review date already past.
    Approving a later version supersedes the one before (which stopped covering anything then)."""
    dpia_check(actor, dpia, to="approve")
    with transaction.atomic():
        dpia = locked_in_state(dpia, DPIAStatus.IN_REVIEW, action="approve the DPIA")
        if prior_consultation_required(dpia) and not dpia.consultation_recorded:
            raise StateConflict(
                "A residual risk stays high: the Commissioner must be consulted before the processing starts "
                "(DPA 2018 s.65 / UK GDPR Art. 36). Record the consultation (date, reference, outcome) first.",
                code="prior_consultation_required",
            )
        if dpia.review_on < timezone.localdate():
            raise StateConflict(
                "The review date has passed; set a new one before approving.", code="dpia_review_overdue"
            )
        dpia.status = DPIAStatus.APPROVED
        dpia.approved_at = timezone.now()
        dpia.approved_by = actor
        dpia.approved_by_name = _name(actor)
        dpia.approved_by_capacity = capacity.strip() or actor.job_title or "Data protection officer"
        dpia.save(
            update_fields=[
                "status",
                "approved_at",
                "approved_by",
                "approved_by_name",
                "approved_by_capacity",
                "updated_at",
            ]
        )
        audit_record(
            action=AuditAction.ALTERATION,
            event="dpia.approved",
            actor=actor,
            target=dpia,
            details={"version": dpia.version, "capacity": dpia.approved_by_capacity},
        )
        previous_version_supersede(
            dpia, actor=actor, approved=DPIAStatus.APPROVED, superseded=DPIAStatus.SUPERSEDED, event="dpia.superseded"
        )
    return dpia


def dpia_reject(*, actor: User, dpia: DPIA, reason: str) -> DPIA:
    dpia_check(actor, dpia, to="reject")
    if not reason.strip():
        raise ValidationFailed("Say why the DPIA is rejected.", code="reason_required")
    with transaction.atomic():
        dpia = locked_in_state(dpia, DPIAStatus.IN_REVIEW, action="reject the DPIA")
        dpia.status = DPIAStatus.REJECTED
        dpia.rejected_at = timezone.now()
        dpia.rejected_by_name = _name(actor)
        dpia.rejection_reason = reason.strip()
        dpia.save(update_fields=["status", "rejected_at", "rejected_by_name", "rejection_reason", "updated_at"])
        audit_record(
            action=AuditAction.ALTERATION, event="dpia.rejected", actor=actor, target=dpia, justification=reason.strip()
        )
    return dpia


def dpia_revise(*, actor: User, dpia: DPIA, change_summary: str) -> DPIA:
    """Editing an approved (or rejected) DPIA: a new draft version with the same content, risks and
    coverage. The approved version keeps covering until the new one is approved. The deployments'
    accuracy evidence is taken afresh from the engine (the weights it runs now)."""
    dpia_check(actor, dpia, to="revise")
    if not change_summary.strip():
        raise ValidationFailed("Say what the new version changes and why.", code="change_summary_required")
    with transaction.atomic():
        old = locked_in_state(dpia, DPIAStatus.APPROVED, DPIAStatus.REJECTED, action="revise the DPIA")
        if DPIA.objects.filter(previous_version=old).exists():
            raise StateConflict("A newer version of this DPIA already exists.", code="newer_version_exists")
        new = DPIA.objects.create(
            **{name: getattr(old, name) for name in EDITABLE_FIELDS},
            reference=old.reference,
            version=old.version + 1,
            controller=old.controller,
            drafted_by=actor,
            dpo_advice_by_id=old.dpo_advice_by_id,
            dpo_advice_at=old.dpo_advice_at,
            consultation_on=old.consultation_on,
            consultation_reference=old.consultation_reference,
            consultation_outcome=old.consultation_outcome,
            previous_version=old,
            change_summary=change_summary.strip(),
        )
        new.agreements.set(old.agreements.all())
        DPIARisk.objects.bulk_create(
            [
                DPIARisk(dpia=new, position=r.position, **{name: getattr(r, name) for name in RISK_FIELDS})
                for r in old.risks.all()
            ]
        )
        source = registry.deployment_source()
        for row in old.deployments.all():
            values = {
                "deployment_reference": row.deployment_reference,
                "deployment_name": row.deployment_name,
                "operator_id": row.operator_id,
                "demographic_evidence": row.demographic_evidence,
                "monitoring_plan": row.monitoring_plan,
                "threshold": row.threshold,
                "weights_sha256": row.weights_sha256,
                "weights_label": row.weights_label,
                "measured": row.measured,
            }
            facts = source.describe(row.deployment_id) if source else None
            if facts is not None:
                values.update(_evidence_fields(source, facts.threshold))
            DPIADeployment.objects.create(dpia=new, deployment_id=row.deployment_id, **values)
        _sync_scope(new)
        audit_record(
            action=AuditAction.COLLECTION,
            event="dpia.revised",
            actor=actor,
            target=new,
            justification=change_summary.strip(),
            details={"from_version": old.version},
        )
    return new


# --- the processing changed ------------------------------------------------------------------------


def dpias_flag_weights_changed() -> int:
    """Flag for review every approved DPIA whose accuracy evidence cites weights other than those the
    engine runs now (the processing changed, Art. 35(11)). Idempotent: an already-flagged DPIA is
    left alone. Its own transaction, so the flag stands even when the caller's action is refused."""
    source = registry.deployment_source()
    if source is None:
        return 0
    running, label = source.running_weights()
    if not running:
        return 0  # weights not installed: the engine cannot run at all, nothing to compare
    flagged = 0
    with transaction.atomic():
        stale = (
            DPIA.objects.filter(status=DPIAStatus.APPROVED, flagged_for_review_at=None, deployments__isnull=False)
            .exclude(deployments__weights_sha256=running)
            .values_list("pk", flat=True)
            .distinct()
        )
        for dpia in lock_rows(DPIA.objects).filter(pk__in=list(stale), flagged_for_review_at=None):
            cited = sorted(set(dpia.deployments.values_list("weights_sha256", flat=True)))
            dpia.flagged_for_review_at = timezone.now()
            dpia.flag_reason = (
                f"the engine now runs weights {running[:12]}… ({label}); the accuracy evidence "
                f"was measured with {', '.join(c[:12] + '…' for c in cited)}."
            )
            dpia.save(update_fields=["flagged_for_review_at", "flag_reason", "updated_at"])
            audit_record(
                action=AuditAction.ALTERATION,
                event="dpia.flagged_for_review",
                actor=None,
                target=dpia,
                details={"running_weights_sha256": running, "cited_weights_sha256": cited},
            )
            flagged += 1
    return flagged


# --- the gates ---------------------------------------------------------------------------------------


def dpia_require_for_deployment(*, deployment_id: int) -> None:
    """Raise ``StateConflict`` unless an approved, in-date DPIA covers the deployment and cites the
    weights the engine runs now (called by recognition's go-live inside its transaction)."""
    source = registry.deployment_source()
    running = (source.running_weights()[0] or None) if source else None
    problem = deployment_dpia_problem(deployment_id, running_weights_sha256=running)
    if problem is not None:
        raise StateConflict(problem.message, code=problem.code)
