"""Periodic governance work, scheduled by ``CELERY_BEAT_SCHEDULE`` (settings).

Arguments are plain JSON; each task calls one idempotent service, so a retry or a second beat
never does double work.
"""

from __future__ import annotations

import logging

from celery import shared_task

from governance.agreements.services import agreements_apply_dates
from governance.audit.sequencer import audit_sequence_all
from governance.audit.services import audit_seal_chain_head
from governance.audit.verification import (
    audit_verification_run,
    audit_verification_run_task,  # noqa: F401 - registered with the workers through this module
    audit_verification_start,
)

logger = logging.getLogger(__name__)


@shared_task(name="governance.tasks.agreements_apply_dates", acks_late=True)
def agreements_apply_dates_task() -> dict[str, int]:
    counts = agreements_apply_dates()
    if any(counts.values()):
        logger.info("Agreement dates applied: %s", counts)
    return counts


@shared_task(name="governance.tasks.audit_sequence", acks_late=True, ignore_result=True)
def audit_sequence_task() -> int | None:
    """The transparency log's sequencer: leaves and a signed tree head for what committed since the
    last run. One at a time (advisory lock); a second run meanwhile returns at once."""
    head = audit_sequence_all()
    return head.tree_size if head else None


@shared_task(name="governance.tasks.audit_seal_chain_head", acks_late=True)
def audit_seal_chain_head_task() -> int | None:
    seal = audit_seal_chain_head()
    return seal.sequence if seal else None


@shared_task(name="governance.tasks.audit_verify_chain", acks_late=True)
def audit_verify_chain_task() -> bool:
    """Nightly: the whole log verified, recorded as a run the audit page shows."""
    run = audit_verification_run(audit_verification_start(actor=None, queue=False).pk)
    ok = run is not None and run.status == "passed"
    if not ok:
        logger.error("Audit log verification FAILED: %s", (run.problems if run else [])[:5])
    return ok
