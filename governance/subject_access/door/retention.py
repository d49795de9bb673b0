"""The retention rule for what a person sent through the public door: the photo and the proof of
identity are kept, encrypted, while their request is open and for
``OVERSIGHT_DOOR_FILE_RETENTION_DAYS`` after it is closed (time to answer questions about the
response), then erased with a deletion certificate and an ``erasure`` event. The request, its
answers and its decisions stay as the record, as for a request received by post."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet

from governance.retention.registry import RetentionRule, retention_rule_register
from governance.subject_access.door.models import DoorFile


def _files_due(at: datetime) -> QuerySet:
    return DoorFile.objects.filter(
        erased_at__isnull=True,
        submission__request__closed_at__lt=at - timedelta(days=settings.OVERSIGHT_DOOR_FILE_RETENTION_DAYS),
    )


def _file_erase(item: DoorFile, run_id: str | None) -> int:
    from governance.subject_access.door.services import door_file_erase

    return door_file_erase(item=item, run_id=run_id)


def _files_visible(actor, queryset: QuerySet) -> QuerySet:
    from governance.subject_access.access import subject_requests_visible_to

    return queryset.filter(submission__request__in=subject_requests_visible_to(actor))


retention_rule_register(
    RetentionRule(
        code="subject_door_file.after_close",
        title="Photos and proof of identity sent through the public page",
        description="What a person sent with a request through the public page is kept encrypted while the request "
        "is open and for a set number of days after it is closed, then erased; the request stays as the record.",
        due=_files_due,
        erase=_file_erase,
        describe=str,
        order=("received_at", "pk"),
        visible=_files_visible,
    )
)
