"""The retention rule for exported subject access responses: the PDF and JSON are kept, encrypted,
for ``OVERSIGHT_SUBJECT_EXPORT_RETENTION_DAYS`` after they are built (long enough to send them and
answer questions about the response; the request and its decisions stay as the record), then
erased with a deletion certificate and an ``erasure`` event."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from governance.retention.registry import RetentionRule, retention_rule_register
from governance.subject_access.models import ExportStatus, SubjectRequestExport


def _exports_due(at: datetime) -> QuerySet:
    return SubjectRequestExport.objects.filter(
        kept_until__lt=timezone.localtime(at).date(), status=ExportStatus.READY, erased_at__isnull=True
    )


def _export_erase(export: SubjectRequestExport, run_id: str | None) -> int:
    from governance.subject_access.services import subject_request_export_erase

    return subject_request_export_erase(export=export, run_id=run_id)


def _exports_visible(actor, queryset: QuerySet) -> QuerySet:
    from governance.subject_access.access import subject_requests_visible_to

    return queryset.filter(request__in=subject_requests_visible_to(actor))


retention_rule_register(
    RetentionRule(
        code="subject_request_export.kept_until",
        title="Subject access response files after their retention period",
        description="The exported PDF and JSON of a subject access response are kept encrypted for a set number of "
        "days after they are built, then erased; the request and the record of the disclosure stay.",
        due=_exports_due,
        erase=_export_erase,
        describe=str,
        order=("kept_until", "pk"),
        visible=_exports_visible,
    )
)
