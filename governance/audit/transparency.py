"""What the audit log shows outside: its signed tree heads in the regulator and DPO packs, its lag on
``/metrics``, and the proofs a party downloads (selectors: read-only).

The pack carries, beside the latest head, the head of the previous pack its reader's organisation
received (kept per organisation: ``AuditHeadReceipt``; the first time, the last head before the
quarter) and the consistency proof between the two, with the public keys: from the pack alone
(``tlog.py --pack``) the regulator confirms that the log it saw last quarter is a prefix of today's.
"""

from __future__ import annotations

import json
from typing import Any

from governance.audit import tlog
from governance.audit.models import AuditHeadReceipt, AuditTreeHead
from governance.audit.sequencer import (
    consistency_proof,
    head_public_keys,
    latest_head,
    sequencer_lag_seconds,
)


def head_before(moment) -> AuditTreeHead | None:
    """The last head signed before ``moment`` (e.g. the end of last quarter). Heads are signed with
    UTC times in one ISO format, so their text sorts as their time."""
    from datetime import UTC

    cutoff = moment.astimezone(UTC).isoformat(timespec="microseconds")
    return AuditTreeHead.objects.filter(issued_at__lt=cutoff).order_by("-tree_size", "-id").first()


def pack_evidence(now=None, *, organisation=None) -> dict[str, Any] | None:
    """The latest head, the head of the previous pack ``organisation`` received (else last quarter's),
    the consistency proof between them and the keys: one JSON document ``tlog.py --pack`` checks."""
    from django.utils import timezone

    from governance.reports.selectors import quarter_of

    today = latest_head()
    if today is None:
        return None
    start, _ = quarter_of(now or timezone.now())
    receipt = (
        AuditHeadReceipt.objects.filter(organisation=organisation).select_related("head").first()
        if organisation is not None
        else None
    )
    if receipt is not None:
        before, source = receipt.head, f"the head of the pack received on {receipt.received_at:%d %B %Y %H:%M} UTC"
    else:
        before = head_before(start) or AuditTreeHead.objects.order_by("tree_size", "id").first()
        source = f"the last head before the quarter starting {start:%d %B %Y} (no earlier pack received)"
    return {
        "format": tlog.PACK_EVIDENCE_FORMAT,
        "public_keys": head_public_keys(),
        "latest_head": today.as_dict(),
        "previous_head": before.as_dict(),
        "previous_head_source": source,
        "consistency_proof": consistency_proof(before, today),
    }


def audit_head_receipt_record(*, organisation, head: AuditTreeHead) -> AuditHeadReceipt | None:
    """Keep which head ``organisation`` received in a pack, so its next pack proves from it. Called when
    the pack is handed over (``regulator_pack``); a second pack at the same head adds nothing."""
    from django.utils import timezone

    if organisation is None:
        return None
    last = AuditHeadReceipt.objects.filter(organisation=organisation).first()
    if last is not None and last.head_id == head.pk:
        return last
    return AuditHeadReceipt.objects.create(organisation=organisation, head=head, received_at=timezone.now())


def audit_pack_handed_over(*, organisation, sections: list) -> AuditHeadReceipt | None:
    """Record the latest head a pack's audit-log section carried as received by ``organisation``."""
    for section in sections:
        if section.code == "audit_log_heads" and len(section.notes) > 1:
            latest = json.loads(section.notes[-1])["latest_head"]
            head = AuditTreeHead.objects.filter(tree_size=latest["tree_size"], root_hash=latest["root_hash"]).first()
            if head is not None:
                return audit_head_receipt_record(organisation=organisation, head=head)
    return None


def audit_log_pack_section(scope) -> list:
    """The regulator pack's (and DPO's pack's) section on the audit log's integrity."""
    from governance.reports.registry import Figure, Section, Table

    organisation = getattr(scope.actor, "organisation", None)
    evidence = pack_evidence(organisation=organisation)
    if evidence is None:
        return [Section("audit_log_heads", "Audit log: signed tree heads", notes=["The audit log is empty."])]
    latest, before = evidence["latest_head"], evidence["previous_head"]
    rows = [
        [label, h["tree_size"], h["root_hash"], h["issued_at"][:19], h["key_id"]]
        for label, h in (("Latest", latest), (f"Earlier: {evidence['previous_head_source']}", before))
    ]
    return [
        Section(
            "audit_log_heads",
            "Audit log: signed tree heads",
            figures=[
                Figure("audit_log_entries", "Events in the signed log", latest["tree_size"]),
                Figure(
                    "audit_log_lag",
                    "Seconds the oldest event has waited for its leaf",
                    round(sequencer_lag_seconds(), 1),
                ),
            ],
            tables=[
                Table("audit_log_heads", "Signed tree heads", ["Head", "Events", "Root hash", "Signed", "Key"], rows)
            ],
            notes=[
                "Keep this pack's evidence (the JSON below) and its latest head. Anyone can check it with "
                "governance/audit/tlog.py (one file, no Oversight needed): save the JSON as pack.json, the latest "
                "head you kept from your previous pack as head.json, then python tlog.py --pack pack.json "
                "--head head.json (or manage.py verify_audit_export --pack pack.json --head head.json). It "
                "confirms the log you saw then is a prefix of today's: nothing since was rewritten or dropped.",
                json.dumps(evidence, sort_keys=True),
            ],
        )
    ]


def audit_heads_published(limit: int = 50) -> dict[str, Any]:
    """The public record: the keys and the latest signed heads (no personal data)."""
    heads = AuditTreeHead.objects.order_by("-tree_size", "-id")[:limit]
    return {"public_keys": head_public_keys(), "heads": [h.as_dict() for h in heads]}


def audit_consistency_published(first_size: int, second_size: int) -> dict[str, Any]:
    """The consistency proof between the heads of two sizes (public: hashes only)."""
    from governance.errors import NotFound

    first = AuditTreeHead.objects.filter(tree_size=first_size).order_by("id").first()
    second = AuditTreeHead.objects.filter(tree_size=second_size).order_by("id").first()
    if first is None or second is None:
        raise NotFound("No signed tree head of that size.")
    return consistency_proof(first, second)


class SequencerLagMetric:
    """``oversight_audit_sequencer_lag_seconds`` and ``oversight_audit_pending_events``."""

    def describe(self) -> list:
        from prometheus_client.core import GaugeMetricFamily

        return [
            GaugeMetricFamily("oversight_audit_sequencer_lag_seconds", "Age of the oldest audit event without a leaf"),
            GaugeMetricFamily("oversight_audit_pending_events", "Audit events waiting for the sequencer"),
        ]

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        from governance.audit.models import AuditPending

        yield GaugeMetricFamily(
            "oversight_audit_sequencer_lag_seconds",
            "Age of the oldest audit event without a leaf",
            value=sequencer_lag_seconds(),
        )
        yield GaugeMetricFamily(
            "oversight_audit_pending_events",
            "Audit events waiting for the sequencer",
            value=AuditPending.objects.count(),
        )


def register() -> None:
    from governance.ops.metrics import metric_source_register
    from governance.reports.registry import FigureProvider, figure_provider_register

    figure_provider_register(
        FigureProvider(code="governance.audit_log", kind="regulator_pack", compute=audit_log_pack_section, order=90)
    )
    metric_source_register(SequencerLagMetric())


__all__ = ["tlog", "register"]
