"""The worker's check of the images sent through the public door (issue 26: no input costs a web request more than
0.5 s of CPU).

The door's web request runs only ``image_precheck`` (size, type, header, decode budget, scans, minimum side) and
stores the bytes as uploaded, encrypted, with ``checked_at`` None (``door.services``). Here the worker decodes each
file with ``image_clean``: a clean image replaces the uploaded bytes (size, SHA-256 and content type of the clean
bytes) and ``checked_at`` is set; a refused one (``corrupt_image``, ...) has its bytes erased, ``refusal_code`` set
and an audit event. Either way the upload as sent (EXIF, GPS position) does not survive the check. The sweep
re-queues files whose task was lost. The request services queue the task after commit and import this module; this
module never imports them back (``tests/test_import_boundaries.py``).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from governance import encryption
from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.locks import lock_rows
from governance.subject_access.door.models import DoorFile
from governance.watchlist.validation import image_clean_stored

# A file still unchecked this long after it was received lost its task (a broker or worker crash): queued again.
DOOR_FILE_REQUEUE_AFTER = timedelta(minutes=15)


def door_files_queue(pks: list[int]) -> None:
    """Queue the worker's check of these files once the transaction that stored them commits (in-process in the
    embedded default, as every task)."""
    for pk in pks:
        transaction.on_commit(lambda pk=pk: door_file_check_task.delay(pk), robust=True)


def door_file_check(*, file_id: int) -> str:
    """Decode one unchecked door file and keep only its clean re-encoding, or refuse it.

    Returns ``"clean"`` (audit ``alteration`` ``subject_door.file_cleaned``), ``"refused:<code>"`` (the codes of
    ``image_clean``; bytes erased, audit ``erasure`` ``subject_door.file_refused``) or ``"skipped:<why>"`` (already
    checked, erased by retention, or gone). Transaction: none during the decode; one ``atomic`` with the file's row
    locked to write the outcome. Idempotent and safe to run twice at once (the second finds it checked)."""
    item = DoorFile.objects.filter(pk=file_id).first()
    if item is None:
        return "skipped:missing"
    if item.checked_at is not None or item.erased_at is not None or item.ciphertext is None:
        return "skipped:checked"
    clean, refusal = image_clean_stored(item.ciphertext)
    with transaction.atomic():
        item = lock_rows(DoorFile.objects).select_related("submission__request").filter(pk=file_id).first()
        if item is None:
            return "skipped:missing"
        if item.checked_at is not None or item.erased_at is not None or item.ciphertext is None:
            return "skipped:checked"
        now = timezone.now()
        item.checked_at = now
        request = item.submission.request
        if refusal is not None:
            item.ciphertext = None
            item.erased_at = now
            item.refusal_code = refusal.code[:60]
            item.save(update_fields=["ciphertext", "erased_at", "refusal_code", "checked_at"])
            audit_record(
                action=AuditAction.ERASURE,
                event="subject_door.file_refused",
                actor=None,
                target=item,
                details={"kind": item.kind, "request": request.reference, "code": item.refusal_code},
            )
            return f"refused:{item.refusal_code}"
        item.ciphertext = encryption.encrypt(clean.data)
        item.key_id = encryption.key_fingerprint()
        item.content_type = clean.content_type
        item.size = len(clean.data)
        item.sha256 = hashlib.sha256(clean.data).hexdigest()
        item.save(update_fields=["ciphertext", "key_id", "content_type", "size", "sha256", "checked_at"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="subject_door.file_cleaned",
            actor=None,
            target=item,
            details={
                "kind": item.kind,
                "request": request.reference,
                "sha256": item.sha256,
                "uploaded_bytes_erased": True,
            },
        )
    return "clean"


def door_files_sweep(*, now=None) -> dict[str, int]:
    """Nothing accepted is lost (issue 26): files still unchecked ``DOOR_FILE_REQUEUE_AFTER`` after they were
    received are queued again."""
    now = now or timezone.now()
    pks = list(
        DoorFile.objects.filter(
            checked_at__isnull=True, erased_at__isnull=True, received_at__lte=now - DOOR_FILE_REQUEUE_AFTER
        ).values_list("pk", flat=True)
    )
    for pk in pks:
        door_file_check_task.delay(pk)
    return {"requeued": len(pks)}


@shared_task(name="governance.subject_access.door.checks.door_file_check", acks_late=True, time_limit=600)
def door_file_check_task(file_id: int) -> str:
    """The worker's decode of one door file (issue 26). Idempotent: the argument is the file's pk."""
    return door_file_check(file_id=file_id)


@shared_task(name="governance.subject_access.door.checks.door_files_sweep")
def door_files_sweep_task() -> dict:
    """Beat, every few minutes: door files whose check was lost are queued again."""
    return door_files_sweep()
