"""The lifecycle of an appropriate policy document (DPA 2018 s.42): draft → approved by the
controller's DPO; editing an approved version makes the next version (a draft), which supersedes it
when approved. The end of the processing it covers is a fact about the processing, not an edit: it
is recorded on every version at once, and starts the six months s.42(3) keeps the document for.

Every function here is an entry point: it checks who may act (``governance.dpia.policy_access``),
opens its own transaction, changes state and records the audit event in that same transaction
(the target's ``concerned_organisation_ids()`` scopes it in the audit log).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from governance.access import agreement_party_ids, agreements_visible_to
from governance.agreements.models import Schedule8Condition
from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.dpia.models import PolicyDocument, PolicyStatus
from governance.dpia.policy_access import can_draft_policy, policy_check
from governance.dpia.rules import policy_kept_until
from governance.dpia.versions import previous_version_supersede
from governance.errors import PermissionRefused, StateConflict, ValidationFailed
from governance.locks import lock_rows
from governance.organisations.models import OrganisationKind, User
from governance.retention.erasure import erasure_with_certificate

POLICY_FIELDS: tuple[str, ...] = (
    "title",
    "schedule8_conditions",
    "compliance_procedures",
    "retention_policy",
    "processing_description",
    "review_on",
)
# What erasure blanks (s.42(3) keeps the document only so long); the record that it existed stays.
ERASED_TEXTS: tuple[str, ...] = (
    "compliance_procedures",
    "retention_policy",
    "processing_description",
    "change_summary",
)


def _name(actor: User | None) -> str:
    return (actor.get_full_name() or actor.get_username()) if actor else "system"


def _clean_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationFailed("Unknown policy document fields.", details=sorted(unknown))
    values = dict(fields)
    if "schedule8_conditions" in values:
        conditions = list(dict.fromkeys(values["schedule8_conditions"] or []))
        bad = [c for c in conditions if c not in Schedule8Condition.values]
        if bad:
            raise ValidationFailed(
                "Unknown Schedule 8 condition.", details={"schedule8_conditions": bad}, code="unknown_condition"
            )
        values["schedule8_conditions"] = conditions
    return values


def _save(policy: PolicyDocument) -> None:
    try:
        policy.full_clean(exclude=["previous_version"])
    except ValidationError as error:
        raise ValidationFailed("The policy document is not valid.", details=error.message_dict) from error
    policy.save()


def _chosen_agreements(actor: User, controller_id: int, agreement_ids) -> list:
    ids = set(agreement_ids)
    chosen = list(agreements_visible_to(actor).filter(pk__in=ids))
    if len(chosen) != len(ids):
        raise ValidationFailed("Unknown agreement.", code="agreement_not_found")
    for agreement in chosen:
        if controller_id not in agreement_party_ids(agreement):
            raise ValidationFailed(f"The controller is not party to {agreement.reference}.", code="not_a_party")
    return chosen


def _next_reference() -> str:
    year = timezone.localdate().year
    count = PolicyDocument.objects.filter(reference__startswith=f"APD-{year}-").values("reference").distinct().count()
    return f"APD-{year}-{count + 1:04d}"


def _require_not_erased(policy: PolicyDocument) -> None:
    if policy.erased_at:
        raise StateConflict("This policy document has been erased (s.42(3)).", code="policy_erased")


def policy_draft(*, actor: User, fields: dict[str, Any], agreement_ids=()) -> PolicyDocument:
    """Start a policy document (version 1, draft) with the actor's organisation as the controller."""
    if not can_draft_policy(actor):
        raise PermissionRefused("Only a data protection officer of a controller can write a policy document.")
    values = _clean_fields(fields)
    with transaction.atomic():
        chosen = _chosen_agreements(actor, actor.organisation_id, agreement_ids)
        policy = PolicyDocument(
            **values, reference=_next_reference(), version=1, controller=actor.organisation, drafted_by=actor
        )
        _save(policy)
        policy.agreements.set(chosen)
        audit_record(
            action=AuditAction.COLLECTION,
            event="policy_document.drafted",
            actor=actor,
            target=policy,
            details={"reference": policy.reference, "version": 1, "conditions": policy.schedule8_conditions},
        )
    return policy


def policy_edit(
    *, actor: User, policy: PolicyDocument, fields: dict[str, Any], agreement_ids=None, change_summary: str = ""
) -> PolicyDocument:
    """Edit a draft in place; editing an approved version makes the next version (a draft) with the
    changes, and the approved one stays in force until that is approved. Returns what was written."""
    policy_check(actor, policy, to="change")
    values = _clean_fields(fields)
    with transaction.atomic():
        current = lock_rows(PolicyDocument.objects).get(pk=policy.pk)
        _require_not_erased(current)
        if current.status == PolicyStatus.SUPERSEDED:
            raise StateConflict("A later version supersedes this one; edit that.", code="superseded")
        if current.status == PolicyStatus.APPROVED:
            if PolicyDocument.objects.filter(previous_version=current).exists():
                raise StateConflict("A newer version of this policy already exists.", code="newer_version_exists")
            if not change_summary.strip():
                raise ValidationFailed("Say what the new version changes and why.", code="change_summary_required")
            target = PolicyDocument(
                **{name: getattr(current, name) for name in POLICY_FIELDS},
                reference=current.reference,
                version=current.version + 1,
                controller=current.controller,
                processing_ended_on=current.processing_ended_on,
                kept_until=current.kept_until,
                previous_version=current,
                change_summary=change_summary.strip(),
                drafted_by=actor,
            )
            for name, value in values.items():
                setattr(target, name, value)
            _save(target)
            target.agreements.set(
                current.agreements.all()
                if agreement_ids is None
                else _chosen_agreements(actor, current.controller_id, agreement_ids)
            )
            audit_record(
                action=AuditAction.COLLECTION,
                event="policy_document.revised",
                actor=actor,
                target=target,
                justification=change_summary.strip(),
                details={"from_version": current.version, "changed": sorted(values)},
            )
            return target
        before = {name: getattr(current, name) for name in POLICY_FIELDS}
        for name, value in values.items():
            setattr(current, name, value)
        _save(current)
        if agreement_ids is not None:
            current.agreements.set(_chosen_agreements(actor, current.controller_id, agreement_ids))
        changed = sorted(name for name in POLICY_FIELDS if before[name] != getattr(current, name))
        audit_record(
            action=AuditAction.ALTERATION,
            event="policy_document.edited",
            actor=actor,
            target=current,
            details={"changed": changed, "agreements": agreement_ids is not None},
        )
        return current


def policy_approval_gaps(policy: PolicyDocument) -> list[str]:
    """What s.42(2) expects the document to state that this one does not yet."""
    gaps = []
    # s.42(2)(a) names Schedule 8 conditions for a competent authority (police); an operator's document
    # (Sch. 1 Part 4) rests on its Schedule 1 condition, recorded on each agreement.
    police = policy.controller.kind in {OrganisationKind.POLICE_FORCE, OrganisationKind.POLICE_UNIT}
    if police and not policy.schedule8_conditions:
        gaps.append("the Schedule 8 conditions relied on")
    if not policy.compliance_procedures.strip():
        gaps.append("the procedures for securing compliance with the principles")
    if not policy.retention_policy.strip():
        gaps.append("the retention and erasure policy")
    if not policy.processing_description.strip():
        gaps.append("the processing it covers")
    return gaps


def policy_approve(*, actor: User, policy: PolicyDocument) -> PolicyDocument:
    """Another DPO of the controller than its writer (``policy_check(to="approve")``) approves a
    complete draft with a review date still ahead; approving a later version supersedes the one before."""
    policy_check(actor, policy, to="approve")
    with transaction.atomic():
        policy = lock_rows(PolicyDocument.objects).get(pk=policy.pk)
        _require_not_erased(policy)
        if policy.status != PolicyStatus.DRAFT:
            raise StateConflict(
                f"Cannot approve: the policy document is {policy.get_status_display().lower()}.", code="invalid_state"
            )
        gaps = policy_approval_gaps(policy)
        if gaps:
            raise ValidationFailed(
                "The policy document is incomplete: it must state " + ", ".join(gaps) + ".",
                code="policy_incomplete",
                details=gaps,
            )
        if policy.review_on < timezone.localdate():
            raise StateConflict("The review date has passed; set a new one first.", code="policy_review_overdue")
        policy.status = PolicyStatus.APPROVED
        policy.approved_at = timezone.now()
        policy.approved_by = actor
        policy.approved_by_name = _name(actor)
        policy.save(update_fields=["status", "approved_at", "approved_by", "approved_by_name", "updated_at"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="policy_document.approved",
            actor=actor,
            target=policy,
            details={"version": policy.version},
        )
        previous_version_supersede(
            policy,
            actor=actor,
            approved=PolicyStatus.APPROVED,
            superseded=PolicyStatus.SUPERSEDED,
            event="policy_document.superseded",
        )
    return policy


def policy_record_processing_end(*, actor: User, policy: PolicyDocument, ended_on: date | None) -> PolicyDocument:
    """Record (or clear, if the processing resumed) when the processing covered ended, on every
    version of the document: s.42(3)'s six months run from it, for all of them."""
    policy_check(actor, policy, to="end")
    if ended_on is not None and ended_on > timezone.localdate():
        raise ValidationFailed("The processing cannot have ended in the future.", code="end_in_future")
    with transaction.atomic():
        policy = lock_rows(PolicyDocument.objects).get(pk=policy.pk)
        _require_not_erased(policy)
        PolicyDocument.objects.filter(reference=policy.reference).update(
            processing_ended_on=ended_on, kept_until=policy_kept_until(ended_on), updated_at=timezone.now()
        )
        policy.refresh_from_db()
        audit_record(
            action=AuditAction.ALTERATION,
            event="policy_document.processing_ended" if ended_on else "policy_document.processing_resumed",
            actor=actor,
            target=policy,
            details={"ended_on": ended_on.isoformat() if ended_on else None},
        )
    return policy


def policy_erase(*, policy: PolicyDocument, run_id: str | None) -> int:
    """Erase one policy document version whose retention has passed, inside the caller's transaction
    (the retention sweep's): blank its texts, keep the record that it existed, write a deletion
    certificate (both sides: the controller) and an ``erasure`` audit event. Idempotent."""
    policy = lock_rows(PolicyDocument.objects).select_related("controller").get(pk=policy.pk)
    if policy.erased_at:
        return 0
    erased = {name: getattr(policy, name) for name in ERASED_TEXTS}
    digest = hashlib.sha256(json.dumps(erased, sort_keys=True).encode()).hexdigest()
    for name in ERASED_TEXTS:
        setattr(policy, name, "")
    policy.erased_at = timezone.now()
    policy.save(update_fields=[*ERASED_TEXTS, "erased_at", "updated_at"])
    reason = (
        f"The processing {policy.reference} covers ended on {policy.processing_ended_on:%d %B %Y}; "
        "an appropriate policy document is kept for six months after (DPA 2018 s.42(3))."
    )
    erasure_with_certificate(
        target=policy,
        subject_type="governance.policydocument",
        label=str(policy),
        sha256=digest,
        rule="policy_document.processing_ended",
        reason=reason,
        run_id=run_id,
        erased_at=policy.erased_at,
        erased_by_name="retention",
        details={"reference": policy.reference, "version": policy.version, "fields": list(ERASED_TEXTS)},
        supplier_organisation_id=policy.controller_id,
        operator_organisation_id=policy.controller_id,
        event="policy_document.erased",
        justification=reason,
        audit_details={"sha256": digest},
    )
    return 1
