"""A deletion certificate as evidence a person would accept: who issues it (the organisation that
held and erased the data, through its Data Protection Officer), what was deleted, when, under which
rule (its name and its legal source), whether it was late and by how much, and the audit event that
recorded the erasure in the tamper-evident log.

``RULE_SOURCES`` is the one place that names each erasure rule's legal source; ``certificate_erased_by`` the one
place that says who erased an item.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils.dateparse import parse_datetime

from governance.audit.models import AuditAction, AuditEvent

_STORAGE_LIMIT = "DPA 2018 s.39 / UK GDPR Art. 5(1)(e): kept no longer than necessary"
_ERASURE_RIGHT = "Right to erasure: DPA 2018 s.47 / UK GDPR Art. 17"

# rule code -> (name, legal source). Rules registered with the retention registry are named by it;
# the rest (withdrawal, a subject's request) are named here.
RULE_SOURCES: dict[str, tuple[str, str]] = {
    "withdrawal": (
        "Image withdrawn by the supplying force",
        "The data-sharing agreement's erasure term (hours after withdrawal); " + _STORAGE_LIMIT,
    ),
    "agreement_ended": (
        "Watchlist images after their agreement ends",
        "The agreement's erasure term; " + _STORAGE_LIMIT,
    ),
    "watchlist_image.agreement_ended": ("", "The agreement's erasure term; " + _STORAGE_LIMIT),
    "watchlist_image.deployment_ended": (
        "",
        "College of Policing APP on live facial recognition (watchlist deleted after the deployment); "
        + _STORAGE_LIMIT,
    ),
    "alert.match_retention": ("", "The agreement's match-retention term; " + _STORAGE_LIMIT),
    "alert_review.record_retention": ("", _STORAGE_LIMIT),
    "disclosure.record_retention": ("", _STORAGE_LIMIT + "; the s.62 log keeps the fact of the disclosure"),
    "audit_event.personal_fields": ("", "DPA 2018 s.62 (logs) and " + _STORAGE_LIMIT),
    "subject_request": ("A data subject's erasure request", _ERASURE_RIGHT),
    "subject_request.erasure": ("A data subject's erasure request", _ERASURE_RIGHT),
    "subject_request_export.kept_until": ("", _STORAGE_LIMIT),
    "policy_document.processing_ended": ("", "DPA 2018 s.42(3): kept six months after the processing ends"),
}


# What the services store as ``erased_by_name`` when no person erased the item (a retention sweep, run by the
# scheduler): older rows hold any of them.
_NO_PERSON = {"", "system", "retention", "Oversight retention sweep"}


@dataclass(frozen=True)
class CertificateEvidence:
    certificate: Any
    issuer: Any  # Organisation or None
    erased_by: str
    rule_name: str
    legal_source: str
    due_at: datetime | None
    late_by: str  # "" when on time or no deadline
    audit_event: Any  # AuditEvent or None


def _rule_name(code: str) -> str:
    from governance.retention.registry import retention_rules

    named = RULE_SOURCES.get(code, ("", ""))[0]
    registered = next((r.title for r in retention_rules() if r.code == code), "")
    return named or registered or code


def certificate_erased_by(certificate) -> str:
    """Who erased the item, as the certificate says it: the person who did (kept by name even after their account
    is deleted), or, where nobody did, the retention sweep and the rule it applied, by the rule's name
    ("Retention sweep under rule Alerts after their match-retention period") rather than "system"."""
    name = (certificate.erased_by_name or "").strip()
    if certificate.erased_by_id is not None or name not in _NO_PERSON:
        return name or "A member of staff"
    return f"Retention sweep under rule {_rule_name(certificate.rule)}"


def _due_at(certificate) -> datetime | None:
    details = certificate.details or {}
    if details.get("retention_due_at"):
        return parse_datetime(details["retention_due_at"])
    if details.get("watchlist_image"):
        from governance.reports.figures import image_erasure_due_at
        from governance.watchlist.models import WatchlistImage

        image = WatchlistImage.objects.select_related("agreement").filter(pk=details["watchlist_image"]).first()
        return image_erasure_due_at(image) if image else None
    return None


def _audit_event(certificate) -> AuditEvent | None:
    """The ``erasure`` event written with the certificate (same transaction, same moment)."""
    window = timedelta(minutes=1)
    events = AuditEvent.objects.filter(
        action=AuditAction.ERASURE,
        occurred_at__gte=certificate.erased_at - window,
        occurred_at__lte=certificate.erased_at + window,
    ).order_by("sequence")
    subject = str(certificate.subject_id)
    image = str((certificate.details or {}).get("watchlist_image", ""))
    for event in events:
        details = event.details or {}
        if certificate.pk in details.get("certificates", []) or event.target_id in {subject, image}:
            return event
        if subject in {str(a) for a in details.get("alerts", [])}:
            return event
    return None


def certificate_evidence(certificate) -> CertificateEvidence:
    from governance.reports.figures import duration_words

    due = _due_at(certificate)
    late = certificate.erased_at - due if due and certificate.erased_at > due else None
    return CertificateEvidence(
        certificate=certificate,
        issuer=certificate.operator_organisation or certificate.supplier_organisation,
        erased_by=certificate_erased_by(certificate),
        rule_name=_rule_name(certificate.rule),
        legal_source=RULE_SOURCES.get(certificate.rule, ("", _STORAGE_LIMIT))[1],
        due_at=due,
        late_by=duration_words(late) if late else "",
        audit_event=_audit_event(certificate),
    )


def certificates_evidence(certificates) -> list[CertificateEvidence]:
    return [certificate_evidence(c) for c in certificates]
