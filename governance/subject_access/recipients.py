"""Rights that reach everyone holding the data: a rectification or erasure is told to each
organisation the item had been disclosed to (UK GDPR Art. 19; DPA 2018 s.48).

UK GDPR Art. 19: "The controller shall communicate any rectification or erasure of personal data or
restriction of processing carried out in accordance with Article 16, Article 17(1) or Article 18 to
each recipient to whom the personal data have been disclosed, unless this proves impossible or
involves disproportionate effort." DPA 2018 s.48(7)-(9) (Part 3): where personal data is rectified
or erased, the controller must notify the recipients, who must in turn rectify, erase or restrict
their copy.

Inside Oversight the recipient is told through Oversight itself: a ``RecipientNotification`` is a
task on the recipient DPO's home page ("Rectifications and erasures to apply"), shown there — and on
the sender's home as "not yet acknowledged", chased after ``CHASE_AFTER_DAYS`` — until the
recipient's DPO acknowledges it. Where telling proves impossible or would involve disproportionate
effort, the sender records which, and why (``recipient_notification_exception``).

Every function that writes is an entry point: its own ``transaction.atomic()`` (or the caller's, for
``recipients_notify``), the access check first, an audit event in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from governance.access import _organisation, answerable_ids
from governance.audit.describe import event_phrases_register
from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import NotFound, PermissionRefused, StateConflict, ValidationFailed
from governance.home.registry import HomePanel, home_panel_register
from governance.locks import lock_rows
from governance.organisations.models import Organisation
from governance.organisations.roles import Role
from governance.subject_access.access import can_answer_subject_requests
from governance.subject_access.models import (
    NoticeException,
    RecipientNotification,
    SubjectRequest,
    SubjectRequestAction,
    SubjectRight,
)
from governance.subject_access.registry import SubjectItem

# Rights whose effect is told to recipients (Art. 19 names restriction too; Oversight's restriction of
# a watchlist image stops the operator's matching itself, so the recipient needs no copy of it).
TOLD_TO_RECIPIENTS = (SubjectRight.RECTIFICATION, SubjectRight.ERASURE)
CHASE_AFTER_DAYS = 7


def _name(actor) -> str:
    return (actor.get_full_name() or actor.get_username()) if actor else "system"


def _what(action: SubjectRequestAction, item: SubjectItem) -> str:
    if action.right == SubjectRight.RECTIFICATION:
        return (
            f"{item.title}: {action.field.replace('_', ' ')} rectified from “{action.before}” to “{action.after}”. "
            "Rectify your copy (UK GDPR Art. 19; DPA 2018 s.48)."
        )
    return f"{item.title} erased at the data subject's request. Erase your copy (UK GDPR Art. 19; DPA 2018 s.48)."


def recipients_notify(
    *, actor, request: SubjectRequest, action: SubjectRequestAction, item: SubjectItem | None
) -> list[RecipientNotification]:
    """Tell each recipient organisation of ``item`` (compiled before the right acted) what was done.
    Runs inside the caller's transaction (the right and its notifications commit together); one
    ``disclosure`` event per recipient, naming it."""
    if item is None or action.right not in TOLD_TO_RECIPIENTS:
        return []
    ids = [pk for pk in dict.fromkeys(item.recipient_organisation_ids) if pk and pk != request.organisation_id]
    notifications = []
    now = timezone.now()
    for recipient in Organisation.objects.filter(pk__in=ids).order_by("name"):
        notification = RecipientNotification.objects.create(
            request=request,
            action=action,
            recipient=recipient,
            what=_what(action, item),
            sent_at=now,
            sent_by_name=_name(actor),
        )
        audit_record(
            action=AuditAction.DISCLOSURE,
            event="subject_request.recipient_notified",
            actor=actor,
            target=notification,
            recipient=f"{recipient} (data protection officer)",
            justification=f"UK GDPR Art. 19 / DPA 2018 s.48: {action.get_right_display().lower()} of {item.ref}",
            details={"request": request.reference, "right": action.right, "item": str(item.ref)},
        )
        notifications.append(notification)
    return notifications


# --- who sees what -------------------------------------------------------------------------------------


def recipient_notifications_visible_to(actor: Any) -> QuerySet[RecipientNotification]:
    """The recipient's DPO (and its force's) and the sender's DPO; nobody else (404)."""
    organisation = _organisation(actor)
    if not can_answer_subject_requests(actor):
        return RecipientNotification.objects.none()
    ids = answerable_ids(organisation)
    return RecipientNotification.objects.filter(Q(recipient_id__in=ids) | Q(request__organisation_id__in=ids))


def recipient_notification_for(actor: Any, pk: Any, *, to: str = "view") -> RecipientNotification:
    try:
        notification = recipient_notifications_visible_to(actor).select_related("request", "recipient").get(pk=pk)
    except (RecipientNotification.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound("No such notification.", code="notification_not_found") from None
    ids = answerable_ids(_organisation(actor))
    if to == "acknowledge" and notification.recipient_id not in ids:
        raise PermissionRefused("Only the recipient acknowledges.", code="not_the_recipient")
    if to == "except" and notification.request.organisation_id not in ids:
        raise PermissionRefused("Only the organisation that acted records an exception.", code="not_the_sender")
    return notification


@dataclass(frozen=True)
class Chase:
    code: str  # acknowledged | excepted | waiting | chased
    text: str


def notification_chase(notification: RecipientNotification, today: date | None = None) -> Chase:
    """Where a notification stands: acknowledged, excepted, waiting, or chased (unacknowledged after
    ``CHASE_AFTER_DAYS``: shown as chased on both organisations' home pages until acknowledged)."""
    today = today or timezone.localdate()
    if notification.acknowledged_at:
        return Chase("acknowledged", f"Acknowledged {timezone.localtime(notification.acknowledged_at):%d %b %Y}")
    if notification.exception:
        return Chase("excepted", f"Not told: {notification.get_exception_display().lower()}")
    days = (today - timezone.localtime(notification.sent_at).date()).days
    if days >= CHASE_AFTER_DAYS:
        return Chase("chased", f"Chased: unacknowledged for {days} days")
    return Chase("waiting", f"Sent {days} day{'s' if days != 1 else ''} ago, awaiting acknowledgement")


# --- acknowledgement and exceptions ---------------------------------------------------------------------


def recipient_notification_acknowledge(
    *, actor, notification: RecipientNotification, note: str = ""
) -> RecipientNotification:
    """The recipient's DPO acknowledges (its copy rectified or erased): the chase ends."""
    notification = recipient_notification_for(actor, notification.pk, to="acknowledge")
    with transaction.atomic():
        notification = lock_rows(RecipientNotification.objects).get(pk=notification.pk)
        if not notification.is_open:
            raise StateConflict("This notification is already settled.", code="notification_settled")
        notification.acknowledged_at = timezone.now()
        notification.acknowledged_by_name = _name(actor)
        notification.acknowledgement_note = note.strip()
        notification.save(update_fields=["acknowledged_at", "acknowledged_by_name", "acknowledgement_note"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="subject_request.recipient_acknowledged",
            actor=actor,
            target=notification,
            justification=note,
            details={"request": notification.request.reference},
        )
    return notification


def recipient_notification_exception(
    *, actor, notification: RecipientNotification, exception: str, reason: str
) -> RecipientNotification:
    """The sender records that telling this recipient proves impossible or would involve
    disproportionate effort (Art. 19), and why; the chase ends. Refused (coded) without a ground
    the law allows or without reasons."""
    notification = recipient_notification_for(actor, notification.pk, to="except")
    if exception not in NoticeException.values:
        raise ValidationFailed(
            "Art. 19 allows two exceptions only: impossible, or disproportionate effort.",
            code="notice_exception_invalid",
        )
    if len(reason.strip()) < 10:
        raise ValidationFailed("Record why the exception applies.", code="notice_exception_reason_required")
    with transaction.atomic():
        notification = lock_rows(RecipientNotification.objects).get(pk=notification.pk)
        if not notification.is_open:
            raise StateConflict("This notification is already settled.", code="notification_settled")
        notification.exception = exception
        notification.exception_reason = reason.strip()
        notification.save(update_fields=["exception", "exception_reason"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="subject_request.recipient_exception",
            actor=actor,
            target=notification,
            justification=reason,
            details={"exception": exception, "request": notification.request.reference},
        )
    return notification


# --- home panels ----------------------------------------------------------------------------------------


def notifications_to_apply(actor: Any) -> dict | None:
    """The recipient's task: rectifications and erasures other organisations made to data they
    disclosed to it, until acknowledged."""
    if not can_answer_subject_requests(actor):
        return None
    ids = answerable_ids(_organisation(actor))
    rows = [
        (n, notification_chase(n))
        for n in recipient_notifications_visible_to(actor)
        .filter(recipient_id__in=ids, acknowledged_at__isnull=True, exception="")
        .select_related("request__organisation", "recipient")
        .order_by("sent_at")[:50]
    ]
    sent = [
        (n, notification_chase(n))
        for n in recipient_notifications_visible_to(actor)
        .filter(request__organisation_id__in=ids, acknowledged_at__isnull=True, exception="")
        .select_related("recipient")
        .order_by("sent_at")[:50]
    ]
    return {"rows": rows, "sent": sent, "count": len(rows)}


event_phrases_register(
    {
        "subject_request.recipient_notified": "Recipient told of a rectification or erasure",
        "subject_request.recipient_acknowledged": "Rectification or erasure acknowledged by the recipient",
        "subject_request.recipient_exception": "Recipient not told (exception recorded)",
    }
)
home_panel_register(
    HomePanel(
        "rights-notifications",
        "Rectifications and erasures to apply",
        frozenset({Role.DPO.value}),
        notifications_to_apply,
        "home/rights_notifications.html",
        25,
    )
)
