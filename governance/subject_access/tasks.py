"""The subject access tasks run off the web request: the export (``subject_request_export_start`` enqueues it on
commit) and the search by photo (``subject_photo_search_start``)."""

from __future__ import annotations

from celery import shared_task

from governance.subject_access.services import (
    subject_photo_search_run,
    subject_photo_searches_sweep,
    subject_request_export_build,
)


@shared_task(name="governance.subject_access.tasks.subject_request_export", acks_late=True, time_limit=900)
def subject_request_export_task(export_id: int) -> str:
    """Idempotent: an export already ready or erased is left as it is; arguments are the export's pk."""
    export = subject_request_export_build(export_id=export_id)
    return export.status if export else "missing"


@shared_task(name="governance.subject_access.tasks.subject_photo_search", acks_late=True, time_limit=600)
def subject_photo_search_task(search_id: int) -> str:
    """A search by the requester's photo, off the web request (issue 26). Idempotent: arguments are the search's
    pk; a finished search is left as it is."""
    search = subject_photo_search_run(search_id=search_id)
    return search.status if search else "missing"


@shared_task(name="governance.subject_access.tasks.subject_photo_searches_sweep")
def subject_photo_searches_sweep_task() -> dict:
    """Beat, every few minutes: lost photo searches queued again, never-run ones ended, old candidates erased."""
    return subject_photo_searches_sweep()
