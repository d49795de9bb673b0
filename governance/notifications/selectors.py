"""Reads of the inbox and of the regulator's correspondence, always scoped to the reader."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from governance.access import is_regulator
from governance.notifications.models import (
    Notification,
    NotificationPreference,
    RegulatorAcknowledgement,
    RegulatorQuery,
)
from governance.notifications.regulator import RECEIVED_KINDS, ReceivedKind, kind_of


def inbox_for(*, user: Any, unread_only: bool = False) -> QuerySet[Notification]:
    notifications = Notification.objects.filter(recipient_id=user.pk)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications.order_by("-raised_at", "-pk")


def unread_count(user: Any) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()


def wants_email(user: Any) -> bool:
    """Email is on unless the user turned it off (and needs an address to go to)."""
    preference = NotificationPreference.objects.filter(user_id=user.pk).first()
    return bool(user.email) and (preference is None or preference.email)


def _acknowledged_ids(actor: Any, kind: str) -> set[int]:
    return set(
        RegulatorAcknowledgement.objects.filter(regulator_id=actor.organisation_id, kind=kind).values_list(
            "object_id", flat=True
        )
    )


def received_unacknowledged(actor: Any) -> list[tuple[ReceivedKind, Any]]:
    """What the regulator has been notified of and not yet acknowledged."""
    if not is_regulator(actor):
        return []
    rows = []
    for received in RECEIVED_KINDS.values():
        acknowledged = _acknowledged_ids(actor, received.kind)
        rows.extend((received, r) for r in received.received(actor).exclude(pk__in=acknowledged))
    return rows


def correspondence_for(actor: Any, record: Any) -> dict | None:
    """The regulator's acknowledgement of and queries about ``record``, for its page: the regulator that
    received it, and the people who answer for it, see them; anyone else nothing (``None``)."""
    received = kind_of(record)
    if received is None or getattr(actor, "organisation_id", None) is None:
        return None
    queries = RegulatorQuery.objects.filter(kind=received.kind, object_id=record.pk)
    acknowledgements = RegulatorAcknowledgement.objects.filter(kind=received.kind, object_id=record.pk)
    if is_regulator(actor):
        if not received.received(actor).filter(pk=record.pk).exists():
            return None
        queries = queries.filter(regulator_id=actor.organisation_id)
        acknowledgements = acknowledgements.filter(regulator_id=actor.organisation_id)
        return {
            "kind": received.kind,
            "record": record,
            "is_receiver": True,
            "acknowledgement": acknowledgements.first(),
            "queries": list(queries),
            "answers": False,
        }
    if not received.answers(actor, record):
        return None
    queries = list(queries)
    acknowledgements = list(acknowledgements)
    if not queries and not acknowledgements:
        return None
    return {
        "kind": received.kind,
        "record": record,
        "is_receiver": False,
        "acknowledgements": acknowledgements,
        "queries": queries,
        "answers": True,
    }
