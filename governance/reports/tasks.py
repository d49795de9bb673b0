"""The quarterly transparency report, produced without a click (``CELERY_BEAT_SCHEDULE``)."""

from __future__ import annotations

from celery import shared_task

from governance.reports.services import transparency_reports_publish_quarterly


@shared_task(name="governance.reports.tasks.transparency_reports_quarterly", acks_late=True, time_limit=600)
def transparency_reports_quarterly_task() -> int:
    """Idempotent: a period already published is left as it is."""
    return transparency_reports_publish_quarterly()
