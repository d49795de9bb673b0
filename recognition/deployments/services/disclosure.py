"""Disclosing a confirmed alert to the force or unit that supplied the image (a s.62 ``disclosure`` event)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import StateConflict, ValidationFailed
from governance.locks import lock_rows
from governance.organisations.models import Organisation, User
from recognition.deployments.access import (
    alert_check,
    disclosure_recipients,
)
from recognition.deployments.models import (
    Alert,
    AlertStatus,
    Disclosure,
    DisclosureChannel,
)
from recognition.deployments.services.common import actor_name, text_required


def alert_disclose(
    *, actor: User, alert: Alert, recipient_organisation: Organisation, recipient: str, channel: str, justification: str
) -> Disclosure:
    """Disclose a confirmed alert to the force (or unit) that supplied the image: a s.62
    ``disclosure`` event naming the recipient, with the justification and channel."""
    alert_check(actor, alert, to="disclose")
    errors: dict[str, list[str]] = {}
    text_required(justification, "justification", "Explain why the disclosure is necessary.", errors)
    if not recipient.strip():
        errors["recipient"] = ["Name who receives it (person, desk or secure mailbox)."]
    if channel not in DisclosureChannel.values:
        errors["channel"] = ["Unknown channel."]
    if errors:
        raise ValidationFailed("The disclosure is incomplete.", code="disclosure_incomplete", details=errors)
    with transaction.atomic():
        # Lock the alert row only: PostgreSQL refuses FOR UPDATE on the outer join to a unit's
        # (nullable) parent force.
        alert = lock_rows(Alert.objects).select_related("agreement", "supplying_organisation__parent").get(pk=alert.pk)
        if alert.status != AlertStatus.CONFIRMED:
            raise StateConflict(
                "Only an alert confirmed by two reviewers can be disclosed.", code="alert_not_confirmed"
            )
        if recipient_organisation.pk not in {o.pk for o in disclosure_recipients(alert)}:
            raise ValidationFailed(
                f"This alert may only be disclosed to {alert.supplying_organisation}, which supplied "
                "the image, or its force.",
                code="recipient_not_supplier",
            )
        disclosure = Disclosure.objects.create(
            alert=alert,
            recipient_organisation=recipient_organisation,
            recipient=recipient.strip(),
            channel=channel,
            justification=justification.strip(),
            disclosed_by=actor,
            disclosed_by_name=actor_name(actor),
            disclosed_at=timezone.now(),
        )
        audit_record(
            action=AuditAction.DISCLOSURE,
            event="alert.disclosed",
            actor=actor,
            target=alert,
            justification=justification.strip(),
            recipient=f"{recipient_organisation.name}: {recipient.strip()}",
            details={
                "disclosure": disclosure.pk,
                "channel": channel,
                "recipient_organisation": recipient_organisation.short_name,
            },
        )
    return disclosure
