"""Who reads what (the shape of ``governance.access``): a notice only its recipient; a record notified to a
regulator that regulator (to acknowledge it and ask about it); a query the regulator that asked it and the
people who answer for the record. Missing and forbidden look the same (404)."""

from __future__ import annotations

from typing import Any

from governance.errors import NotFound
from governance.notifications.models import Notification, RegulatorQuery
from governance.notifications.regulator import RECEIVED_KINDS


def notification_for(actor: Any, pk: Any) -> Notification:
    try:
        return Notification.objects.get(pk=pk, recipient_id=actor.pk)
    except (Notification.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("No such notification.", code="notification_not_found") from None


def received_record_for(actor: Any, kind: str, pk: Any) -> Any:
    """A record notified to the actor's organisation as regulator."""
    received = RECEIVED_KINDS.get(kind)
    if received is None:
        raise NotFound("No such notification.", code="notification_not_found")
    records = received.received(actor)
    try:
        return records.get(pk=pk)
    except (records.model.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("No such notification.", code="notification_not_found") from None


def query_record(query: RegulatorQuery) -> Any:
    return RECEIVED_KINDS[query.kind].record(query.object_id)


def can_answer_query(actor: Any, query: RegulatorQuery) -> bool:
    return RECEIVED_KINDS[query.kind].answers(actor, query_record(query))


def regulator_query_for(actor: Any, pk: Any, *, to: str = "answer") -> RegulatorQuery:
    try:
        query = RegulatorQuery.objects.get(pk=pk)
    except (RegulatorQuery.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("No such query.", code="query_not_found") from None
    if to == "answer" and can_answer_query(actor, query):
        return query
    if to == "view" and (query.regulator_id == actor.organisation_id or can_answer_query(actor, query)):
        return query
    raise NotFound("No such query.", code="query_not_found")
