"""What approving a new version of a DPIA or of an appropriate policy document does to the version before it: the
approved one is superseded (the record of what was in force until now stays; only the new one is current)."""

from __future__ import annotations

from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.locks import lock_rows


def previous_version_supersede(document, *, actor, approved: str, superseded: str, event: str) -> None:
    """``document`` has just been approved: the version it revises, if that one was approved, becomes ``superseded``
    (row locked, ``updated_at`` saved) and an alteration event ``event`` names the version that took over. Inside the
    approval's transaction."""
    previous = document.previous_version
    if previous is None or previous.status != approved:
        return
    previous = lock_rows(type(previous).objects).get(pk=previous.pk)
    previous.status = superseded
    previous.save(update_fields=["status", "updated_at"])
    audit_record(
        action=AuditAction.ALTERATION,
        event=event,
        actor=actor,
        target=previous,
        details={"superseded_by_version": document.version},
    )
