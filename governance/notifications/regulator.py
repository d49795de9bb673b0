"""What a regulator receives, by kind (an agreement notified before approval, a breach notified to the
Commissioner): which records it has received, who answers its queries about one, and where the record's
page is. The one place that says so; the access functions, services, panel and pages use it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from governance.access import agreements_visible_to, can_answer_regulator_on_agreement, is_regulator
from governance.audit.describe import event_phrases_register
from governance.notifications.models import NotifiedKind


@dataclass(frozen=True)
class ReceivedKind:
    kind: str
    model_label: str  # "app_label.Model"
    noun: str
    url_name: str
    received: Callable[[Any], QuerySet]  # the records notified to the actor's organisation (a regulator's)
    answers: Callable[[Any, Any], bool]  # may this actor reply to a query about this record
    organisations: Callable[[Any], set[int]]  # whose people answer (their DPOs)

    def url(self, record: Any) -> str:
        return reverse(self.url_name, args=[record.pk])

    def record(self, object_id: int) -> Any:
        from django.apps import apps

        return apps.get_model(self.model_label).objects.get(pk=object_id)


def _agreements_received(actor: Any) -> QuerySet:
    if not is_regulator(actor):
        return agreements_visible_to(actor).none()
    return agreements_visible_to(actor).filter(regulator_id=actor.organisation_id, regulator_notified_on__isnull=False)


def _breaches_received(actor: Any) -> QuerySet:
    from governance.breaches.access import breaches_visible_to

    if not is_regulator(actor):
        return breaches_visible_to(actor).none()
    return breaches_visible_to(actor).filter(commissioner_notified_at__isnull=False)


def _breach_answers(actor: Any, breach: Any) -> bool:
    from governance.breaches.access import can_change_breach

    return can_change_breach(actor, breach)


RECEIVED_KINDS: dict[str, ReceivedKind] = {
    NotifiedKind.AGREEMENT: ReceivedKind(
        NotifiedKind.AGREEMENT,
        "governance.Agreement",
        "agreement",
        "agreement-detail",
        _agreements_received,
        can_answer_regulator_on_agreement,
        lambda agreement: agreement.concerned_organisation_ids(),
    ),
    NotifiedKind.BREACH: ReceivedKind(
        NotifiedKind.BREACH,
        "governance.Breach",
        "breach",
        "breach-detail",
        _breaches_received,
        _breach_answers,
        lambda breach: {breach.organisation_id},
    ),
}


def kind_of(record: Any) -> ReceivedKind | None:
    """The kind a record is received as (by its model), or ``None``."""
    label = record._meta.model_name
    return RECEIVED_KINDS.get(label)


event_phrases_register(
    {
        "regulator.acknowledged": "Regulator acknowledged a notification",
        "regulator.query_asked": "Regulator asked a question about a notification",
        "regulator.query_answered": "Question from the regulator answered",
        "notifications.preference_changed": "Notification preference changed",
    }
)
