"""The subject access tasks run off the web request: the export (``subject_request_export_start`` enqueues it on
commit). The search by photo's tasks live beside their code in ``governance.subject_access.photo_searches``
(registered when the app is ready, ``governance/apps.py``)."""

from __future__ import annotations

from celery import shared_task

from governance.subject_access.exports import subject_request_export_build


@shared_task(name="governance.subject_access.tasks.subject_request_export", acks_late=True, time_limit=900)
def subject_request_export_task(export_id: int) -> str:
    """Idempotent: an export already ready or erased is left as it is; arguments are the export's pk."""
    export = subject_request_export_build(export_id=export_id)
    return export.status if export else "missing"
