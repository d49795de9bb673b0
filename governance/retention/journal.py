"""The erasure journal: every erasure, kept outside the database, so that a restore from a backup
taken before it can put it back (UK GDPR art. 17; the ICO's guidance on backups: data erased from
live systems must not come back with a restore).

Why outside: a backup restored after an outage brings back everything the database held when the
backup was taken — including images withdrawn by the police since, alerts and review records whose
retention has ended since. The journal is the record of those erasures that the restore does not
roll back. It holds no personal data: record ids, the digests the deletion certificates hold (to
recognise the same record again), the rule, when — never labels, reasons or subject references.

Writing (``erasure_journal_export``): beat appends, every minute, each ``erasure`` audit event not yet
in the journal, described by the kind of erasure that wrote it (one line of JSON each, fsynced, the
file locked while writing). It reads the database, so an exporter that died half-way loses nothing:
the next run appends what is missing. What is at risk is only what was erased in the last minute
before the database was lost (run the export once more before a planned restore; README).

Replaying (``erasure_journal_replay``, ``manage.py reapply_erasures``): after a restore, each
journal entry whose event is not in the restored chain is re-applied through the same service that
erased it first, which writes new deletion certificates and ``erasure`` events in the restored log.
Idempotent: an entry whose record is already erased, no longer there, or is a *different* record
that took the same id after the restore (its digest does not match) is skipped, so the command can
be run any number of times.

Each kind of erasure registers its ``ErasureKind`` (the registry pattern of retention rules):
governance for watchlist images and policy documents, recognition for alerts, reviews and
disclosures.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from governance.audit.models import AuditAction, AuditEvent
from governance.registry import Registry

FORMAT = "oversight-erasure-journal/1"
LAST_EXPORT_CACHE_KEY = "oversight:erasure-journal:last-export"

# Outcomes of replaying one entry.
REAPPLIED = "reapplied"
ALREADY_ERASED = "already_erased"
ABSENT = "absent"  # the record is not in the restored database (it was created after the backup)
DIFFERENT_RECORD = "different_record"  # the id now names another record: never erase it
IN_RESTORED_CHAIN = "in_restored_chain"  # the erasure itself is in the restored database


@dataclass(frozen=True)
class ErasureKind:
    """How one kind of erasure is written to the journal and replayed.

    ``event``: the audit event name its erasure service writes (``watchlist_image.erased``);
    ``describe(event)``: what the journal keeps about one such event (ids and digests only), read
    while the erased records' certificates are still in the database;
    ``replay(data, note)``: re-apply it in the current database inside the caller's transaction,
    returning one outcome per record (``REAPPLIED`` …); ``note`` says why, for the new certificates.
    """

    event: str
    describe: Callable[[AuditEvent], dict[str, Any]]
    replay: Callable[[dict[str, Any], str], list[str]]


_KINDS: Registry[ErasureKind] = Registry("erasure kind")


def erasure_kind_register(kind: ErasureKind) -> ErasureKind:
    return _KINDS.register(kind.event, kind)


def erasure_kinds() -> dict[str, ErasureKind]:
    return dict(_KINDS.items())


def journal_path() -> Path:
    return Path(settings.OVERSIGHT_ERASURE_JOURNAL)


@contextlib.contextmanager
def _locked(path: Path, mode: str) -> Iterator[Any]:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, mode) as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def journal_entries(path: Path | None = None) -> list[dict[str, Any]]:
    """Every entry of the journal, in the order written. A torn last line (a crash mid-write) is
    ignored: the next export writes that entry again, since it is read back from the database."""
    path = path or journal_path()
    if not path.exists():
        return []
    entries = []
    for line in path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if entry.get("format") == FORMAT:
            entries.append(entry)
    return entries


@dataclass
class ExportResult:
    appended: int = 0
    skipped_unknown: list[str] = field(default_factory=list)


def erasure_journal_export(*, path: Path | None = None) -> ExportResult:
    """Append every ``erasure`` event of this database that the journal does not hold yet.

    Read-only on the database; safe to run at any time and from any one process at a time (the
    file is locked). Resumes after the last journal entry that belongs to this database's history
    (an entry whose sequence and chain hash this database has): after a restore, the entries of
    the lost stretch stay in the journal for ``reapply_erasures`` and the restored chain's new
    erasures are appended after them.
    """
    path = path or journal_path()
    result = ExportResult()
    with _locked(path, "a+") as handle:
        handle.seek(0)
        entries = [e for e in (_parse(line) for line in handle.read().splitlines()) if e]
        known = {e["chain_hash"] for e in entries}
        recent = {e["chain_hash"]: e["sequence"] for e in entries[-200:]}
        matching = AuditEvent.objects.filter(chain_hash__in=list(recent)).values_list("sequence", flat=True)
        resume_after = max(matching, default=0)
        events = AuditEvent.objects.filter(action=AuditAction.ERASURE, sequence__gt=resume_after).order_by("sequence")
        lines = []
        for event in events.iterator(chunk_size=500):
            if event.chain_hash in known:
                continue
            kind = _KINDS.get(event.event)
            if kind is None:
                result.skipped_unknown.append(event.event)
                continue
            lines.append(
                json.dumps(
                    {
                        "format": FORMAT,
                        "sequence": event.sequence,
                        "chain_hash": event.chain_hash,
                        "event": event.event,
                        "occurred_at": event.occurred_at.isoformat(),
                        "data": kind.describe(event),
                    },
                    sort_keys=True,
                )
            )
        if lines:
            handle.write("\n".join(lines) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        result.appended = len(lines)
    # For the metric oversight_erasure_journal_seconds_since_export (governance/ops/metrics.py):
    # a journal that stopped being written is an erasure a restore would bring back.
    from django.core.cache import cache
    from django.utils import timezone

    cache.set(LAST_EXPORT_CACHE_KEY, timezone.now().timestamp(), timeout=None)
    return result


def _parse(line: str) -> dict[str, Any] | None:
    try:
        entry = json.loads(line)
    except json.JSONDecodeError:
        return None
    return entry if isinstance(entry, dict) and entry.get("format") == FORMAT else None


@dataclass
class ReplayResult:
    entries: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    unknown_kinds: list[str] = field(default_factory=list)
    lost_head: dict[str, Any] | None = None  # the last journalled erasure the restored chain does not hold

    def count(self, outcome: str, n: int = 1) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + n

    @property
    def reapplied(self) -> int:
        return self.outcomes.get(REAPPLIED, 0)


def erasure_journal_replay(*, path: Path | None = None, dry_run: bool = False) -> ReplayResult:
    """Re-apply every journalled erasure the current database does not reflect (see the module
    docstring). One transaction per entry, each through the kind's own erasure service (new
    certificates, new ``erasure`` events); then one ``alteration`` event summarising the replay.
    ``dry_run`` replays inside transactions that are rolled back, to report what would happen."""
    from governance.audit.services import audit_record

    result = ReplayResult()
    entries = journal_entries(path)
    result.entries = len(entries)
    in_chain = set(
        AuditEvent.objects.filter(chain_hash__in=[e["chain_hash"] for e in entries]).values_list(
            "chain_hash", flat=True
        )
    )
    for entry in entries:
        if entry["chain_hash"] in in_chain:
            result.count(IN_RESTORED_CHAIN)
            continue
        result.lost_head = {k: entry[k] for k in ("sequence", "chain_hash", "occurred_at")}
        kind = _KINDS.get(entry["event"])
        if kind is None:
            result.unknown_kinds.append(entry["event"])
            continue
        note = (
            f"Re-applied from the erasure journal after a restore from backup: first erased at "
            f"{entry['occurred_at']} (audit event #{entry['sequence']} of the lost stretch)."
        )
        with transaction.atomic():
            outcomes = kind.replay(entry["data"], note)
            if dry_run:
                transaction.set_rollback(True)
        for outcome in outcomes:
            result.count(outcome)
    if not dry_run and result.entries:
        with transaction.atomic():
            audit_record(
                action=AuditAction.ALTERATION,
                event="erasure_journal.replayed",
                actor=None,
                target=("governance.erasurejournal", "-", "Erasure journal"),
                justification="Erasures made after the backup re-applied after a restore.",
                details={"entries": result.entries, "outcomes": result.outcomes, "lost_head": result.lost_head},
            )
    return result


# --- governance's own kinds ----------------------------------------------------------------------


def _image_describe(event: AuditEvent) -> dict[str, Any]:
    from governance.watchlist.models import WatchlistImage

    sha256 = WatchlistImage.objects.filter(pk=event.target_id).values_list("sha256", flat=True).first()
    return {"image": int(event.target_id), "sha256": sha256 or "", "rule": event.details.get("rule", "")}


def _image_replay(data: dict[str, Any], note: str) -> list[str]:
    from governance.watchlist.models import ImageStatus, WatchlistImage
    from governance.watchlist.services import watchlist_image_erase

    image = WatchlistImage.objects.filter(pk=data["image"]).first()
    if image is None:
        return [ABSENT]
    if image.sha256 != data["sha256"]:
        return [DIFFERENT_RECORD]
    if image.status == ImageStatus.ERASED:
        return [ALREADY_ERASED]
    watchlist_image_erase(image=image, actor=None, reason=note, rule=data.get("rule") or "journal_replay")
    return [REAPPLIED]


def _policy_describe(event: AuditEvent) -> dict[str, Any]:
    return {"policy": int(event.target_id), "sha256": event.details.get("sha256", "")}


def _policy_replay(data: dict[str, Any], note: str) -> list[str]:
    import hashlib

    from governance.dpia.models import PolicyDocument
    from governance.dpia.policy_services import ERASED_TEXTS, policy_erase

    policy = PolicyDocument.objects.filter(pk=data["policy"]).first()
    if policy is None:
        return [ABSENT]
    if policy.erased_at:
        return [ALREADY_ERASED]
    texts = {name: getattr(policy, name) for name in ERASED_TEXTS}
    if hashlib.sha256(json.dumps(texts, sort_keys=True).encode()).hexdigest() != data["sha256"]:
        return [DIFFERENT_RECORD]
    policy_erase(policy=policy, run_id="journal-replay")
    return [REAPPLIED]


erasure_kind_register(ErasureKind(event="watchlist_image.erased", describe=_image_describe, replay=_image_replay))
erasure_kind_register(ErasureKind(event="policy_document.erased", describe=_policy_describe, replay=_policy_replay))
