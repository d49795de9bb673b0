"""How an erasure at the end of a retention period is recorded, the same way for every kind of record: a deletion
certificate (what went, the SHA-256 of what went, why, under which rule, by which run, which organisations may read
it) and an ``erasure`` event in the audit log naming the run (storage limitation, DPA 2018 s.39 / UK GDPR
Art. 5(1)(e); the certificate as evidence: ``governance.retention.certificate``).

The caller locks the row (``governance.locks.lock_rows``), returns early when it was erased already (idempotent), and
blanks or deletes what the rule erases; this records it, inside the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from governance.audit.models import AuditAction
from governance.audit.services import audit_record


def erasure_with_certificate(
    *,
    target: Any,
    subject_type: str,
    label: str,
    sha256: str,
    rule: str,
    reason: str,
    run_id: str | None,
    event: str,
    justification: str,
    erased_at: datetime | None = None,
    erased_by_name: str = "system",
    details: dict[str, Any] | None = None,
    supplier_organisation_id: int | None = None,
    operator_organisation_id: int | None = None,
    audit_details: dict[str, Any] | None = None,
    cite_certificate: bool = False,
    organisations: Any = (),
):
    """Write the deletion certificate of ``target`` (a model instance, or ``(type, id, label)`` once the row is
    gone) and its ``erasure`` audit event (no actor: the retention run erases). The event's details are the run,
    then ``audit_details``, then the certificate's number when ``cite_certificate``. Returns the certificate."""
    from governance.watchlist.models import DeletionCertificate

    certificate = DeletionCertificate.objects.create(
        subject_type=subject_type,
        subject_id=str(target[1] if isinstance(target, tuple) else target.pk),
        subject_label=label,
        sha256=sha256,
        reason=reason,
        rule=rule,
        erased_at=erased_at or timezone.now(),
        erased_by_name=erased_by_name,
        run_id=run_id,
        details=details or {},
        supplier_organisation_id=supplier_organisation_id,
        operator_organisation_id=operator_organisation_id,
    )
    event_details = {"run_id": run_id, **(audit_details or {})}
    if cite_certificate:
        event_details["certificate"] = certificate.pk
    audit_record(
        action=AuditAction.ERASURE,
        event=event,
        actor=None,
        target=target,
        justification=justification,
        details=event_details,
        organisations=organisations,
    )
    return certificate
