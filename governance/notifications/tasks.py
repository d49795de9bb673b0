"""The notification sweep, on the one beat schedule (``notifications-raise``)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="governance.notifications.tasks.notifications_raise", acks_late=True)
def notifications_raise() -> int:
    """Raise every due notice once per recipient and stage, then email those wanted. Idempotent
    (``notifications_raise`` service): safe to kill and rerun."""
    from governance.notifications.services import notifications_raise as sweep

    return sweep()
