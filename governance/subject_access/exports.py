"""Building a subject request's export off the request: the export task's one service
(``governance.subject_access.tasks``; ``subject_request_export_start`` in the request's services queues it on
commit). The files are kept ``OVERSIGHT_SUBJECT_EXPORT_RETENTION_DAYS`` after they are built (their own retention
rule, ``governance.subject_access.retention``)."""

from __future__ import annotations

import hashlib
import io
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from governance import encryption
from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import ApplicationError
from governance.locks import lock_rows
from governance.pdf import pdf_page_count
from governance.subject_access.access import subject_request_check
from governance.subject_access.models import ExportStatus, SubjectRequestExport


def export_kept_until(finished_on: date) -> date:
    return finished_on + timedelta(days=settings.OVERSIGHT_SUBJECT_EXPORT_RETENTION_DAYS)


def _progress(export_id: int):
    def report(percent: int, stage: str) -> None:
        SubjectRequestExport.objects.filter(pk=export_id).update(progress=min(int(percent), 99), stage=stage[:120])

    return report


def subject_request_export_build(*, export_id: int) -> SubjectRequestExport | None:
    """The task's one service: compile as the DPO who asked (access re-checked), render the PDF and
    the JSON, store both encrypted, audit the ``disclosure`` to the data subject. Idempotent: an
    export already ready (or erased) is left as it is. Progress is written as it goes."""
    from governance.subject_access.compile import compile_response
    from governance.subject_access.documents import response_json, response_pdf

    export = SubjectRequestExport.objects.select_related("request", "requested_by").filter(pk=export_id).first()
    if export is None or export.status in (ExportStatus.READY, ExportStatus.ERASED):
        return export
    report = _progress(export.pk)
    SubjectRequestExport.objects.filter(pk=export.pk).update(status=ExportStatus.BUILDING, progress=5, stage="Starting")
    try:
        actor = export.requested_by
        request = subject_request_check(actor, export.request, to="export")
        response = compile_response(actor=actor, request=request, progress=report)
        report(75, "Rendering the PDF")
        pdf = response_pdf(response)
        report(90, "Writing the JSON")
        data = response_json(response)
        pages = pdf_page_count(io.BytesIO(pdf))
    except ApplicationError as error:
        SubjectRequestExport.objects.filter(pk=export.pk).update(
            status=ExportStatus.FAILED, error=error.message, stage="Failed"
        )
        return SubjectRequestExport.objects.get(pk=export.pk)
    with transaction.atomic():
        export = lock_rows(SubjectRequestExport.objects).get(pk=export.pk)
        export.pdf_ciphertext = encryption.encrypt(pdf)
        export.json_ciphertext = encryption.encrypt(data)
        export.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
        export.json_sha256 = hashlib.sha256(data).hexdigest()
        export.key_id = encryption.key_fingerprint()
        export.page_count = pages
        export.status = ExportStatus.READY
        export.progress = 100
        export.stage = "Ready"
        export.finished_at = timezone.now()
        export.kept_until = export_kept_until(timezone.localdate())
        export.save()
        audit_record(
            action=AuditAction.DISCLOSURE,
            event="subject_request.exported",
            actor=actor,
            target=export,
            recipient=f"The data subject of {request.reference} (subject access response)",
            details={
                "request": request.reference,
                "items": [i.ref for s in response.sections.values() for i in s],
                "withheld": len(response.withheld),
                "pictures": response.picture_count,
                "pdf_sha256": export.pdf_sha256,
                "json_sha256": export.json_sha256,
            },
        )
    return export
