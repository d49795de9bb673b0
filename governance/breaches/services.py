"""Recording breaches and what was done about them. Each service: one transaction, one audit event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from governance.access import agreement_check, agreement_party_ids
from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.breaches.access import breach_for, can_record_breach
from governance.breaches.models import Breach, BreachParty
from governance.breaches.rules import art33_missing, breach_party_hours, subjects_not_told_refusal
from governance.errors import PermissionRefused, StateConflict, ValidationFailed
from governance.locks import lock_rows

FIELDS = (
    "title",
    "what_happened",
    "occurred_at",
    "discovered_at",
    "data_affected",
    "records_affected",
    "people_affected",
    "people_affected_description",
    "risk",
    "risk_assessment",
    "measures_taken",
    "dpo_contact",
)
# The Art. 33(3) contents a DPO may complete after recording (``breach_contents_complete``).
CONTENT_FIELDS = (
    "data_affected",
    "records_affected",
    "people_affected",
    "people_affected_description",
    "risk_assessment",
    "measures_taken",
    "dpo_contact",
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
    if not can_record_breach(actor):
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
    return lock_rows(Breach.objects).get(pk=breach.pk)


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
        missing = art33_missing(breach)
        if missing:
            raise ValidationFailed(
                "The notification must contain what Art. 33(3) lists; missing: " + ", ".join(missing) + ".",
                code="art33_incomplete",
                details={"missing": missing},
            )
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
    *,
    actor,
    breach: Breach,
    notified_at: datetime | None = None,
    how: str = "",
    not_told_ground: str = "",
    not_told_reason: str = "",
) -> Breach:
    """Record that the people affected were told (when, how) or, on one of the grounds the law
    lists, why not (Art. 34(3); s.68(3), s.68(7): ``rules.subjects_not_told_refusal``; free text
    alone is refused)."""
    with transaction.atomic():
        breach = _locked(actor, breach)
        if notified_at:
            if not how.strip():
                raise ValidationFailed("Say how the people affected were told.", code="told_how_required")
            breach.subjects_notified_at, breach.subjects_notified_how = notified_at, how.strip()
        elif not_told_ground or not_told_reason.strip():
            refusal = subjects_not_told_refusal(breach, ground=not_told_ground, reason=not_told_reason)
            if refusal is not None:
                raise ValidationFailed(refusal[1], code=refusal[0])
            breach.subjects_not_notified_ground = not_told_ground
            breach.subjects_not_notified_reason = not_told_reason.strip()
        else:
            raise ValidationFailed(
                "Give when and how they were told, or why they were not.", code="told_or_why_required"
            )
        breach.save(
            update_fields=[
                "subjects_notified_at",
                "subjects_notified_how",
                "subjects_not_notified_ground",
                "subjects_not_notified_reason",
            ]
        )
        audit_record(
            action=AuditAction.ALTERATION,
            event="breach.subjects_informed",
            actor=actor,
            target=breach,
            justification=breach.subjects_not_notified_reason,
            details={"told": bool(notified_at), "ground": breach.subjects_not_notified_ground},
        )
    return breach


def breach_contents_complete(*, actor, breach: Breach, fields: dict[str, Any]) -> Breach:
    """Complete the Art. 33(3) contents (numbers, DPO contact, consequences, measures) after the
    first record. One transaction, audited as an ``alteration`` naming the fields changed."""
    unknown = set(fields) - set(CONTENT_FIELDS)
    if unknown:
        raise ValidationFailed("Unknown fields.", code="unknown_fields", details=sorted(unknown))
    with transaction.atomic():
        breach = _locked(actor, breach)
        changed = [name for name, value in fields.items() if getattr(breach, name) != value]
        for name in changed:
            setattr(breach, name, fields[name])
        _clean(breach)
        if changed:
            breach.save(update_fields=changed)
            audit_record(
                action=AuditAction.ALTERATION,
                event="breach.contents_completed",
                actor=actor,
                target=breach,
                details={"fields": changed},
            )
    return breach


def breach_share(*, actor, breach: Breach, agreement) -> BreachParty:
    """Link the breach to the agreement under which the data it involves was shared: the other party
    (the supplying force or unit, or the receiving operator) then sees the breach, and the clock to
    tell it starts (the agreement's hours, ``rules.breach_party_hours``). Only the recorder links;
    its organisation must be a party to an agreement it can see."""
    with transaction.atomic():
        breach = _locked(actor, breach)
        agreement_check(actor, agreement, to="view")
        if breach.organisation_id not in agreement_party_ids(agreement):
            raise ValidationFailed(
                "The breach's organisation is not a party to that agreement.", code="not_a_party_to_agreement"
            )
        other = (
            agreement.supplying_organisation
            if breach.organisation_id == agreement.receiving_organisation_id
            else agreement.receiving_organisation
        )
        if BreachParty.objects.filter(breach=breach, agreement=agreement, organisation=other).exists():
            raise StateConflict("The breach is already shared under this agreement.", code="already_shared")
        party = BreachParty.objects.create(
            breach=breach,
            agreement=agreement,
            organisation=other,
            hours=breach_party_hours(agreement),
            linked_by_name=_name(actor),
            linked_at=timezone.now(),
        )
        audit_record(
            action=AuditAction.ALTERATION,
            event="breach.shared",
            actor=actor,
            target=breach,
            details={
                "agreement": f"{agreement.reference} v{agreement.version}",
                "party": str(other),
                "hours": party.hours,
            },
        )
    return party


def breach_party_told(*, actor, breach: Breach, party: BreachParty, told_at: datetime, how: str) -> BreachParty:
    """Record when and how the other party was told (the agreement's clock stops)."""
    with transaction.atomic():
        breach = _locked(actor, breach)
        party = lock_rows(BreachParty.objects).get(pk=party.pk, breach=breach)
        if party.told_at:
            raise StateConflict("Already recorded as told.", code="party_already_told")
        if told_at > timezone.now() or told_at < breach.discovered_at:
            raise ValidationFailed("The time told must lie between discovery and now.", code="told_at_invalid")
        if not how.strip():
            raise ValidationFailed("Say how the other party was told.", code="told_how_required")
        party.told_at, party.told_how, party.told_by_name = told_at, how.strip(), _name(actor)
        party.save(update_fields=["told_at", "told_how", "told_by_name"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="breach.party_told",
            actor=actor,
            target=breach,
            details={"party": str(party.organisation), "told_at": told_at.isoformat(), "late": told_at > party.due_at},
        )
    return party
