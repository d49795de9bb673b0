"""Raising notices, reading them, the email preference and the regulator's acknowledgements and queries.

Every notice goes to the inbox; email carries only a link to it (``notification_email``), never the
notice's words, a record's reference or anyone's details, because an email leaves the system for good.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from governance.access import is_regulator
from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import StateConflict, ValidationFailed
from governance.locks import lock_rows
from governance.notifications.access import query_record, received_record_for, regulator_query_for
from governance.notifications.models import (
    Notification,
    NotificationPreference,
    RegulatorAcknowledgement,
    RegulatorQuery,
)
from governance.notifications.registry import Notice, clocks
from governance.notifications.regulator import RECEIVED_KINDS
from governance.notifications.selectors import wants_email

logger = logging.getLogger(__name__)

QUERY_MIN_CHARS = 10
QUERY_MAX_CHARS = 4000
# Notices older than this are not emailed late (a mail server that was down for days sends no backlog).
EMAIL_WITHIN = timedelta(days=2)


def _name(user: Any) -> str:
    return user.get_full_name() or user.get_username()


def notification_raise(
    *, recipient: Any, clock: str, notice: Notice, now: datetime | None = None
) -> Notification | None:
    """Put ``notice`` in ``recipient``'s inbox unless it is already there (same record and stage): returns the
    new notification, or ``None``. Idempotent by the unique constraint, so two sweeps at once raise it once."""
    try:
        with transaction.atomic():
            notification, created = Notification.objects.get_or_create(
                recipient=recipient,
                key=notice.key,
                stage=notice.stage,
                defaults={
                    "clock": clock,
                    "title": notice.title[:300],
                    "url": notice.url,
                    "raised_at": now or timezone.now(),
                },
            )
    except IntegrityError:  # raised by a concurrent sweep between our read and our insert
        return None
    return notification if created else None


def _recipients():
    from governance.organisations.models import User

    return User.objects.filter(is_active=True, organisation__isnull=False).select_related("organisation")


def notifications_raise(*, now: datetime | None = None) -> int:
    """The periodic sweep (beat ``notifications-raise``): every registered clock, for every active user holding
    one of its roles, raises the notices due now through the access layer (a user is only ever told about
    records they may see). Idempotent: a second run raises nothing new. Each notice is its own transaction,
    so a sweep killed half-way loses nothing and the next one finishes. Then emails what waits to be emailed."""
    from governance.home.selectors import roles_held

    now = now or timezone.now()
    raised = 0
    registered = clocks()
    for user in _recipients().iterator(chunk_size=200):
        roles = roles_held(user)
        for clock in registered:
            if not roles & clock.roles:
                continue
            for notice in clock.notices(user, now):
                if notification_raise(recipient=user, clock=clock.code, notice=notice, now=now):
                    raised += 1
    notifications_email_pending(now=now)
    return raised


def notification_email(notification: Notification) -> tuple[str, str]:
    """Subject and body: a link to the notice and to the preference, nothing else."""
    site = settings.OVERSIGHT_SITE_URL.rstrip("/")
    body = (
        "Something in Oversight needs your attention.\n\n"
        f"Open it (sign-in required): {site}{reverse('notification-open', args=[notification.pk])}\n\n"
        f"To stop these emails: {site}{reverse('account')}\n"
    )
    return "Oversight: a new notice", body


def notifications_email_pending(*, now: datetime | None = None) -> int:
    """Email each recent, not yet emailed notice to a recipient who wants email. A notice is marked emailed in
    the transaction that sends it (a failed send leaves it for the next sweep)."""
    now = now or timezone.now()
    sent = 0
    pending = Notification.objects.filter(emailed_at__isnull=True, raised_at__gte=now - EMAIL_WITHIN)
    for pk in pending.values_list("pk", flat=True):
        with transaction.atomic():
            notification = (
                lock_rows(Notification.objects, skip_locked=True)
                .select_related("recipient")
                .filter(pk=pk, emailed_at__isnull=True)
                .first()
            )
            if notification is None or not wants_email(notification.recipient):
                continue
            subject, body = notification_email(notification)
            try:
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [notification.recipient.email])
            except OSError:
                logger.warning("Notification email not sent (notification %s); retried next sweep", pk)
                continue
            notification.emailed_at = timezone.now()
            notification.save(update_fields=["emailed_at"])
            sent += 1
    return sent


def notification_read(*, actor: Any, notification: Notification) -> Notification:
    """Mark one of the actor's notices read (``notification_for`` has checked it is theirs)."""
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_read_all(*, actor: Any) -> int:
    return Notification.objects.filter(recipient_id=actor.pk, read_at__isnull=True).update(read_at=timezone.now())


def notification_preference_set(*, actor: Any, email: bool) -> NotificationPreference:
    with transaction.atomic():
        preference, _ = NotificationPreference.objects.update_or_create(
            user=actor, defaults={"email": bool(email), "changed_at": timezone.now()}
        )
        audit_record(
            action=AuditAction.ALTERATION,
            event="notifications.preference_changed",
            actor=actor,
            target=actor,
            details={"email": bool(email)},
        )
    return preference


def _text(value: str, *, field: str) -> str:
    value = (value or "").strip()
    if len(value) < QUERY_MIN_CHARS:
        raise ValidationFailed(
            "Write at least a sentence.", code=f"{field}_required", details={field: ["At least 10 characters."]}
        )
    if len(value) > QUERY_MAX_CHARS:
        raise ValidationFailed(
            f"At most {QUERY_MAX_CHARS} characters.", code=f"{field}_too_long", details={field: ["Too long."]}
        )
    return value


def _regulator_refusal(actor: Any) -> None:
    if not is_regulator(actor):
        from governance.errors import PermissionRefused

        raise PermissionRefused("Only the regulator a record was notified to acknowledges it or asks about it.")


def regulator_notification_acknowledge(*, actor: Any, kind: str, pk: Any) -> RegulatorAcknowledgement:
    """The regulator acknowledges a record notified to it (once; a second time is a coded conflict). Its
    notices about the record are marked read for everyone at the regulator. Audited on the record."""
    _regulator_refusal(actor)
    record = received_record_for(actor, kind, pk)
    with transaction.atomic():
        if RegulatorAcknowledgement.objects.filter(
            regulator_id=actor.organisation_id, kind=kind, object_id=record.pk
        ).exists():
            raise StateConflict("Already acknowledged.", code="already_acknowledged")
        acknowledgement = RegulatorAcknowledgement.objects.create(
            regulator_id=actor.organisation_id,
            kind=kind,
            object_id=record.pk,
            acknowledged_at=timezone.now(),
            acknowledged_by=actor,
            acknowledged_by_name=_name(actor),
        )
        Notification.objects.filter(
            recipient__organisation_id=actor.organisation_id, key=f"received:{kind}:{record.pk}", read_at__isnull=True
        ).update(read_at=timezone.now())
        audit_record(
            action=AuditAction.ALTERATION,
            event="regulator.acknowledged",
            actor=actor,
            target=record,
            details={"kind": kind},
        )
    return acknowledgement


def _tell(users, *, clock: str, notice: Notice) -> None:
    for user in users:
        notification_raise(recipient=user, clock=clock, notice=notice)


def regulator_query_ask(*, actor: Any, kind: str, pk: Any, question: str) -> RegulatorQuery:
    """The regulator asks about a record notified to it. The people who answer for the record (its DPOs) get
    a notice linking to the record's page, where they reply. Audited on the record."""
    _regulator_refusal(actor)
    record = received_record_for(actor, kind, pk)
    question = _text(question, field="question")
    received = RECEIVED_KINDS[kind]
    with transaction.atomic():
        query = RegulatorQuery.objects.create(
            regulator_id=actor.organisation_id,
            kind=kind,
            object_id=record.pk,
            question=question,
            asked_at=timezone.now(),
            asked_by=actor,
            asked_by_name=_name(actor),
        )
        audit_record(
            action=AuditAction.ALTERATION,
            event="regulator.query_asked",
            actor=actor,
            target=record,
            details={"kind": kind, "query": query.pk},
        )
        answering = [u for u in _recipients().filter(organisation_id__in=received.organisations(record))]
        _tell(
            [u for u in answering if received.answers(u, record)],
            clock="regulator-query",
            notice=Notice(
                f"query:{query.pk}",
                "asked",
                f"The regulator asked a question about {received.noun} {record.reference}",
                received.url(record) + "#regulator",
            ),
        )
    return query


def regulator_query_answer(*, actor: Any, pk: Any, answer: str) -> RegulatorQuery:
    """A DPO who answers for the record replies to the regulator's query (once). The regulator's people who
    asked get a notice. Audited on the record."""
    query = regulator_query_for(actor, pk, to="answer")
    answer = _text(answer, field="answer")
    record = query_record(query)
    received = RECEIVED_KINDS[query.kind]
    with transaction.atomic():
        query = lock_rows(RegulatorQuery.objects).get(pk=query.pk)
        if query.answered_at is not None:
            raise StateConflict("This query has already been answered.", code="query_already_answered")
        query.answer = answer
        query.answered_at = timezone.now()
        query.answered_by = actor
        query.answered_by_name = _name(actor)
        query.save(update_fields=["answer", "answered_at", "answered_by", "answered_by_name"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="regulator.query_answered",
            actor=actor,
            target=record,
            details={"kind": query.kind, "query": query.pk},
            organisations=[query.regulator_id],
        )
        asker = [query.asked_by] if query.asked_by and query.asked_by.is_active else []
        _tell(
            asker,
            clock="regulator-query",
            notice=Notice(
                f"query:{query.pk}",
                "answered",
                f"Your question about {received.noun} {record.reference} was answered",
                received.url(record) + "#regulator",
            ),
        )
    return query
