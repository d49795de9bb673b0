"""The supplying unit or its force reports what it did with a disclosure."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import StateConflict, ValidationFailed
from governance.locks import lock_rows
from governance.organisations.models import User
from recognition.deployments.access import disclosure_for
from recognition.deployments.models import (
    Disclosure,
    EthnicGroup,
    Outcome,
)
from recognition.deployments.services.common import actor_name


def disclosure_record_outcome(
    *, actor: User, disclosure: Disclosure, outcome: str, notes: str = "", ethnic_group: str = ""
) -> Disclosure:
    """The supplying unit or its force reports what it did. Once only; audited as an ``alteration``.
    ``ethnic_group``: optional, one of the ONS high-level groups (``EthnicGroup``), for the reports."""
    disclosure = disclosure_for(actor, disclosure.pk, to="report_outcome")
    if outcome not in Outcome.values:
        raise ValidationFailed("Unknown outcome.", code="invalid_outcome", details={"outcomes": Outcome.values})
    if ethnic_group not in EthnicGroup.values:
        raise ValidationFailed(
            "Unknown ethnic group.", code="invalid_ethnic_group", details={"groups": EthnicGroup.values}
        )
    if outcome == Outcome.OTHER and not notes.strip():
        raise ValidationFailed("Describe the outcome in the notes.", code="notes_required")
    with transaction.atomic():
        disclosure = lock_rows(Disclosure.objects).get(pk=disclosure.pk)
        if disclosure.outcome:
            raise StateConflict("The outcome has already been reported.", code="outcome_already_reported")
        disclosure.outcome = outcome
        disclosure.outcome_notes = notes.strip()
        disclosure.outcome_ethnic_group = ethnic_group
        disclosure.outcome_reported_at = timezone.now()
        disclosure.outcome_reported_by = actor
        disclosure.outcome_reported_by_name = actor_name(actor)
        disclosure.save(
            update_fields=[
                "outcome",
                "outcome_notes",
                "outcome_ethnic_group",
                "outcome_reported_at",
                "outcome_reported_by",
                "outcome_reported_by_name",
            ]
        )
        audit_record(
            action=AuditAction.ALTERATION,
            event="disclosure.outcome_reported",
            actor=actor,
            target=disclosure.alert,
            justification=notes.strip(),
            details={"disclosure": disclosure.pk, "outcome": outcome},
        )
    return disclosure
