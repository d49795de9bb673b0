from __future__ import annotations

import logging

from celery import shared_task

from governance.retention.services import SweepAlreadyRunning, retention_sweep

logger = logging.getLogger(__name__)


@shared_task(name="governance.retention.tasks.retention_sweep", acks_late=True, ignore_result=True)
def retention_sweep_task() -> dict | None:
    """Beat runs this every few minutes. A second concurrent sweep exits at once (the lock)."""
    try:
        run = retention_sweep(triggered_by="schedule")
    except SweepAlreadyRunning:
        logger.info("Retention sweep skipped: another sweep is running.")
        return None
    if run.total_erased:
        logger.info("Retention run %s erased %s", run.run_id, run.erased_counts)
    return run.erased_counts
