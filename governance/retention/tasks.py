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


@shared_task(name="governance.retention.tasks.erasure_journal_export", acks_late=True, ignore_result=True)
def erasure_journal_export_task() -> int:
    """Beat runs this every minute: appends new erasures to the journal kept outside the database.
    Idempotent (the journal is compared with the database each time); the file lock makes a second
    concurrent run wait."""
    from governance.retention.journal import erasure_journal_export

    result = erasure_journal_export()
    if result.skipped_unknown:
        logger.warning("Erasure events with no registered journal kind: %s", sorted(set(result.skipped_unknown)))
    return result.appended
