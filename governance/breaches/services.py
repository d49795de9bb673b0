"""Recording breaches and what was done about them. Each service: one transaction, one audit event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from governance.access import role_allows
from governance.audit.models import AuditAction
from governance.audit.services import ROW_LOCK, audit_record
from governance.breaches.access import breach_for
from governance.breaches.models import Breach
from governance.errors import PermissionRefused, StateConflict, ValidationFailed

FIELDS = (
    "title",
    "what_happened",
    "occurred_at",
    "discovered_at",
    "data_affected",
    "people_affected",
    "people_affected_description",
    "risk",
    "risk_assessment",
    "measures_taken",
)


def _name(actor) -> str:
    return actor.get_full_name() or actor.username


def _clean(breach: Breach) -> None:
    try:
        breach.full_clean()
    except ValidationError as error:
        raise ValidationFailed("The breach record is incomplete.", details=error.message_dict) from None
    if breach.discovered_at > timezone.now():
        raise ValidationFailed(
            "A breach cannot be discovered in the future.", details={"discovered_at": ["In the future."]}
        )
    if breach.occurred_at and breach.occurred_at > breach.discovered_at:
        raise ValidationFailed(
            "It cannot have happened after it was found.", details={"occurred_at": ["After discovery."]}
        )


def _next_reference() -> str:
    year = timezone.localdate().year
    count = Breach.objects.filter(reference__startswith=f"BR-{year}-").count()
    return f"BR-{year}-{count + 1:04d}"


def breach_record(*, actor, fields: dict[str, Any]) -> Breach:
    """Enter a breach for the actor's organisation (its DPO). Audited as a ``collection``."""
    if not role_allows(actor, "governance.add_breach"):
        raise PermissionRefused("Your role cannot record breaches.")
    with transaction.atomic():
        breach = Breach(
            **{k: v for k, v in fields.items() if k in FIELDS},
            organisation=actor.organisation,
            reference=_next_reference(),
            recorded_by=actor,
            recorded_by_name=_name(actor),
            recorded_at=timezone.now(),
        )
        _clean(breach)
        breach.save()
        audit_record(
            action=AuditAction.COLLECTION,
            event="breach.recorded",
            actor=actor,
            target=breach,
            details={"risk": breach.risk, "discovered_at": breach.discovered_at.isoformat()},
        )
    return breach


def _locked(actor, breach: Breach) -> Breach:
    breach_for(actor, breach.pk, to="change")
    return Breach.objects.select_for_update(**ROW_LOCK).get(pk=breach.pk)


def breach_commissioner_notified(
    *, actor, breach: Breach, notified_at: datetime, reference: str, delay_reason: str = ""
) -> Breach:
    """Record that the Commissioner was told. After 72 hours, the reasons for the delay are required (Art. 33(1))."""
    with transaction.atomic():
        breach = _locked(actor, breach)
        if breach.commissioner_notified_at:
            raise StateConflict("The Commissioner's notification is already recorded.")
        if notified_at > timezone.now() or notified_at < breach.discovered_at:
            raise ValidationFailed("The notification time must lie between discovery and now.")
        if notified_at > breach.commissioner_due_at and not delay_reason.strip():
            raise ValidationFailed(
                "Told after 72 hours: give the reasons for the delay (Art. 33(1)).", code="delay_reason_required"
            )
        breach.commissioner_notified_at = notified_at
        breach.commissioner_reference = reference.strip()
        breach.commissioner_delay_reason = delay_reason.strip()
        breach.save(update_fields=["commissioner_notified_at", "commissioner_reference", "commissioner_delay_reason"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="breach.commissioner_notified",
            actor=actor,
            target=breach,
            details={"notified_at": notified_at.isoformat(), "reference": breach.commissioner_reference},
        )
    return breach


def breach_commissioner_not_notified(*, actor, breach: Breach, reason: str) -> Breach:
    """Record why the Commissioner was not told (only for a breach rated unlikely to cause risk)."""
    with transaction.atomic():
        breach = _locked(actor, breach)
        if breach.commissioner_notification_required:
            raise StateConflict(
                "A breach rated as a risk must be notified to the Commissioner.", code="notification_required"
            )
        if not reason.strip():
            raise ValidationFailed("Say why the breach is unlikely to result in a risk.")
        breach.commissioner_not_notified_reason = reason.strip()
        breach.save(update_fields=["commissioner_not_notified_reason"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="breach.commissioner_not_notified",
            actor=actor,
            target=breach,
            justification=breach.commissioner_not_notified_reason,
        )
    return breach


def breach_subjects_informed(
    *, actor, breach: Breach, notified_at: datetime | None = None, how: str = "", not_told_reason: str = ""
) -> Breach:
    """Record that the people affected were told (when, how) or why not (Art. 34(3); s.68(3)-(4))."""
    with transaction.atomic():
        breach = _locked(actor, breach)
        if notified_at:
            if not how.strip():
                raise ValidationFailed("Say how the people affected were told.")
            breach.subjects_notified_at, breach.subjects_notified_how = notified_at, how.strip()
        elif not_told_reason.strip():
            breach.subjects_not_notified_reason = not_told_reason.strip()
        else:
            raise ValidationFailed("Give when and how they were told, or why they were not.")
        breach.save(update_fields=["subjects_notified_at", "subjects_notified_how", "subjects_not_notified_reason"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="breach.subjects_informed",
            actor=actor,
            target=breach,
            details={"told": bool(notified_at)},
        )
    return breach
