"""Correcting the outcome a force reported for a disclosure (issue 25: "outcomes cannot be corrected").

An outcome is reported once (``services.disclosure_record_outcome``); a mistake in it is corrected, never
overwritten silently: the party that may report it (the supplying unit or its force, ``access.can_report_outcome``)
gives the corrected outcome and a reason, the value it replaces is kept in an ``OutcomeCorrection`` row beside the
disclosure (who reported it, when, with which notes), and the correction is audited as an ``alteration`` with the
reason as its justification and the old and new codes in its details. Retention blanks the notes and reasons of the
corrections with the disclosure's own (``retention._disclosure_erase``).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import StateConflict, ValidationFailed
from governance.inputs import meaningful_justification
from governance.locks import lock_rows
from governance.organisations.models import User
from recognition.deployments.access import disclosure_for
from recognition.deployments.models import Disclosure, Outcome, OutcomeCorrection


def disclosure_correct_outcome(
    *, actor: User, disclosure: Disclosure, outcome: str, notes: str = "", reason: str
) -> Disclosure:
    """Replace a reported outcome, keeping the old one; audited ``alteration`` with the reason.

    Refusals: ``NotFound`` (not visible), ``PermissionRefused`` (not the supplying side), ``ValidationFailed``
    (``invalid_outcome``, ``notes_required``, ``reason_required``, ``outcome_unchanged``), ``StateConflict``
    (``outcome_not_reported``: nothing to correct yet; report it instead).
    """
    disclosure = disclosure_for(actor, disclosure.pk, to="report_outcome")
    notes, reason = (notes or "").strip(), (reason or "").strip()
    if outcome not in Outcome.values:
        raise ValidationFailed("Unknown outcome.", code="invalid_outcome", details={"outcomes": Outcome.values})
    if outcome == Outcome.OTHER and not notes:
        raise ValidationFailed("Describe the outcome in the notes.", code="notes_required")
    if not meaningful_justification(reason):
        raise ValidationFailed(
            "Say why the recorded outcome was wrong; the reason is kept with the old value and in the audit log.",
            code="reason_required",
            details={"reason": ["Give the reason for the correction in words."]},
        )
    with transaction.atomic():
        disclosure = lock_rows(Disclosure.objects).select_related("alert").get(pk=disclosure.pk)
        if not disclosure.outcome:
            raise StateConflict(
                "No outcome has been reported yet: report it rather than correct it.", code="outcome_not_reported"
            )
        if disclosure.outcome == outcome and disclosure.outcome_notes == notes:
            raise ValidationFailed("That is the outcome already recorded.", code="outcome_unchanged")
        correction = OutcomeCorrection.objects.create(
            disclosure=disclosure,
            previous_outcome=disclosure.outcome,
            previous_notes=disclosure.outcome_notes,
            previous_reported_at=disclosure.outcome_reported_at,
            previous_reported_by_name=disclosure.outcome_reported_by_name,
            outcome=outcome,
            reason=reason,
            corrected_by=actor,
            corrected_by_name=actor.get_full_name() or actor.get_username(),
            corrected_at=timezone.now(),
        )
        previous = disclosure.outcome
        disclosure.outcome = outcome
        disclosure.outcome_notes = notes
        disclosure.save(update_fields=["outcome", "outcome_notes"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="disclosure.outcome_corrected",
            actor=actor,
            target=disclosure.alert,
            justification=reason,
            details={
                "disclosure": disclosure.pk,
                "correction": correction.pk,
                "previous_outcome": previous,
                "outcome": outcome,
            },
        )
    return disclosure
