"""What the audit log shows outside: its signed tree heads in the regulator and DPO packs, its lag on
``/metrics``, and the proofs a party downloads (selectors: read-only).

The pack carries, beside the latest head, the last head of the previous quarter and the consistency
proof between the two, with the public keys: from the pack alone (``tlog.py --proof``) the regulator
confirms that the log it saw last quarter is a prefix of today's.
"""

from __future__ import annotations

import json
from typing import Any

from governance.audit import tlog
from governance.audit.models import AuditTreeHead
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


def pack_evidence(now=None) -> dict[str, Any] | None:
    """The latest head, last quarter's head and the consistency proof between them, and the keys."""
    from django.utils import timezone

    from governance.reports.selectors import quarter_of

    today = latest_head()
    if today is None:
        return None
    start, _ = quarter_of(now or timezone.now())
    before = head_before(start) or AuditTreeHead.objects.order_by("tree_size", "id").first()
    return {
        "public_keys": head_public_keys(),
        "latest_head": today.as_dict(),
        "quarter_start": start.isoformat(),
        "previous_quarter_head": before.as_dict(),
        "consistency_proof": consistency_proof(before, today),
    }


def audit_log_pack_section(scope) -> list:
    """The regulator pack's (and DPO's pack's) section on the audit log's integrity."""
    from governance.reports.registry import Figure, Section, Table

    evidence = pack_evidence()
    if evidence is None:
        return [Section("audit_log_heads", "Audit log: signed tree heads", notes=["The audit log is empty."])]
    latest, before = evidence["latest_head"], evidence["previous_quarter_head"]
    rows = [
        [label, h["tree_size"], h["root_hash"], h["issued_at"][:19], h["key_id"]]
        for label, h in (("Latest", latest), ("Last head before this quarter", before))
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
                "Keep these heads. Anyone can check with governance/audit/tlog.py (one file, no Oversight "
                "needed): save the proof below as proof.json and the keys as key.pem, then "
                "python tlog.py --public-key key.pem --proof proof.json. It confirms the log seen at the "
                "last head before this quarter is a prefix of today's: nothing since was rewritten or dropped.",
                json.dumps(evidence["consistency_proof"], sort_keys=True),
                *evidence["public_keys"].values(),
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
