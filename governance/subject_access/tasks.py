"""The subject access export, built off the request (``subject_request_export_start`` enqueues it on commit)."""

from __future__ import annotations

from celery import shared_task

from governance.subject_access.exports import subject_request_export_build


@shared_task(name="governance.subject_access.tasks.subject_request_export", acks_late=True, time_limit=900)
def subject_request_export_task(export_id: int) -> str:
    """Idempotent: an export already ready or erased is left as it is; arguments are the export's pk."""
    export = subject_request_export_build(export_id=export_id)
    return export.status if export else "missing"
