"""A longer retention term than the law's bounds, approved by the supplying force's DPO.

``governance.agreements.rules.retention_term_problems`` bounds an agreement's terms (alert data at
most 31 days, watchlist erasure within 24 hours after a deployment ends: Met LFR policy). The one way
past the bound is this service: the DPO of the supplying force itself (the party whose images and
whose law-enforcement purpose the data serve) approves a longer term with a recorded reason; the
agreement, its page and every report then show who approved what, when and why.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from governance.access import agreement_check, can_extend_retention
from governance.agreements.models import Agreement, AgreementStatus
from governance.agreements.rules import (
    MAX_ALERT_RETENTION_DAYS,
    MAX_WATCHLIST_ERASURE_HOURS,
    retention_term_problems,
)
from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import PermissionRefused, StateConflict, ValidationFailed
from governance.locks import lock_rows
from governance.organisations.models import User


def retention_extension_refusal(actor: User, agreement: Agreement) -> PermissionRefused | None:
    """Who approves a longer term: the DPO of the supplying force itself — never a unit, never the
    operator (``None``: the actor may; also the button test)."""
    if not can_extend_retention(actor, agreement):
        return PermissionRefused(
            "Only the supplying force's data protection officer approves a longer retention term.",
            code="not_supplying_force_dpo",
        )
    return None


def agreement_retention_extend(
    *,
    actor: User,
    agreement: Agreement,
    reason: str,
    match_retention_days: int | None = None,
    watchlist_erasure_hours: int | None = None,
) -> Agreement:
    """The supplying force's DPO sets a longer term than the bounds, with the reason, while the
    agreement is a draft or submitted. One transaction: the terms, the approval and the audit event.

    Refused (coded, nothing stored): not the supplying force's DPO (``not_supplying_force_dpo``), no
    reason (``reason_required``), nothing longer than the bounds asked (``no_extension_needed``), a
    term of 0 (``retention_zero``), an agreement past drafting (``invalid_state``).
    """
    agreement_check(actor, agreement, to="view")
    refusal = retention_extension_refusal(actor, agreement)
    if refusal is not None:
        raise refusal
    if not reason.strip():
        raise ValidationFailed("Record why the longer term is needed.", code="reason_required")
    longer_days = match_retention_days is not None and match_retention_days > MAX_ALERT_RETENTION_DAYS
    longer_hours = watchlist_erasure_hours is not None and watchlist_erasure_hours > MAX_WATCHLIST_ERASURE_HOURS
    for value in (match_retention_days, watchlist_erasure_hours):
        if value is not None and value < 1:
            raise ValidationFailed("A retention term of 0 is never allowed.", code="retention_zero")
    if not (longer_days or longer_hours):
        raise ValidationFailed(
            f"Terms within {MAX_ALERT_RETENTION_DAYS} days and {MAX_WATCHLIST_ERASURE_HOURS} hours need no approval; "
            "set them on the agreement.",
            code="no_extension_needed",
        )
    with transaction.atomic():
        agreement = lock_rows(Agreement.objects).get(pk=agreement.pk)
        if agreement.status not in {AgreementStatus.DRAFT, AgreementStatus.SUBMITTED}:
            raise StateConflict(
                "Retention terms change only while the agreement is a draft or submitted (otherwise amend it).",
                code="invalid_state",
            )
        if longer_days:
            agreement.retention_extension_match_days = match_retention_days
            agreement.match_retention_days = match_retention_days
        if longer_hours:
            agreement.retention_extension_watchlist_hours = watchlist_erasure_hours
            agreement.watchlist_erasure_hours = watchlist_erasure_hours
        agreement.retention_extension_reason = reason.strip()
        agreement.retention_extension_approved_by = actor
        agreement.retention_extension_approved_by_name = actor.get_full_name() or actor.get_username()
        agreement.retention_extension_approved_at = timezone.now()
        problems = retention_term_problems(agreement)
        if problems:  # unreachable by construction; the rule stays the last word
            raise ValidationFailed(problems[0].message, code=problems[0].code)
        agreement.save()
        audit_record(
            action=AuditAction.ALTERATION,
            event="agreement.retention_extended",
            actor=actor,
            target=agreement,
            justification=reason.strip(),
            details={
                "match_retention_days": agreement.match_retention_days,
                "watchlist_erasure_hours": agreement.watchlist_erasure_hours,
            },
        )
    return agreement
