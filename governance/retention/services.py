"""Enforcing retention: legal holds and the sweep.

The sweep finds every item a registered rule says is due, skips what a legal hold covers, and
erases the rest in bounded batches, one transaction per batch. It can be killed at any moment:
a batch either committed (its items are erased and certified, so no longer due) or rolled back
(its items are still due and the next run takes them) — nothing is erased twice, nothing missed.
Two sweeps never run at once (a PostgreSQL advisory lock, released if the process dies; a cache
lock on the embedded default).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from governance.access import can_place_hold, hold_for
from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import NotFound, PermissionRefused, StateConflict, ValidationFailed
from governance.inputs import is_id
from governance.locks import lock_rows
from governance.organisations.models import User
from governance.retention.models import LegalHold, RetentionRun, RetentionRunStatus
from governance.retention.registry import RetentionRule, hold_target, retention_rules

_SWEEP_LOCK_ID = 620_063
_SWEEP_CACHE_LOCK = "oversight:retention-sweep-lock"


class SweepAlreadyRunning(StateConflict):
    default_code = "sweep_already_running"


@contextlib.contextmanager
def _sweep_lock() -> Iterator[None]:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_SWEEP_LOCK_ID])
            if not cursor.fetchone()[0]:
                raise SweepAlreadyRunning("Another retention sweep is running.")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [_SWEEP_LOCK_ID])
    else:
        if not cache.add(_SWEEP_CACHE_LOCK, "1", timeout=3600):
            raise SweepAlreadyRunning("Another retention sweep is running.")
        try:
            yield
        finally:
            cache.delete(_SWEEP_CACHE_LOCK)


def _after(fields: tuple[str, ...], values: tuple) -> Q:
    """Rows strictly after ``values`` in the order of ``fields`` (keyset pagination)."""
    first, *rest = fields
    condition = Q(**{f"{first}__gt": values[0]})
    if rest:
        condition |= Q(**{first: values[0]}) & _after(tuple(rest), values[1:])
    return condition


def _holds_in_force(at: datetime) -> set[tuple[str, str]]:
    return set(LegalHold.objects.in_force(at).values_list("scope", "target_id"))


def _is_held(rule: RetentionRule, item, holds: set[tuple[str, str]]) -> bool:
    return any(key in holds for key in rule.hold_keys(item))


@dataclass
class RetentionPreview:
    """What a sweep would do now (``--dry-run``)."""

    at: datetime
    due: dict[str, int] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)


def retention_preview(*, at: datetime | None = None, sample: int = 0) -> RetentionPreview:
    at = at or timezone.now()
    holds = _holds_in_force(at)
    preview = RetentionPreview(at=at)
    for rule in retention_rules():
        due = rule.due(at)
        held = sum(1 for item in due.iterator(chunk_size=2000) if _is_held(rule, item, holds)) if holds else 0
        preview.due[rule.code] = due.count() - held
        preview.held[rule.code] = held
    return preview


def retention_sweep(
    *, at: datetime | None = None, batch_size: int = 500, triggered_by: str = "schedule"
) -> RetentionRun:
    """Erase everything due. Idempotent and restartable; see the module docstring.

    Each batch: lock up to ``batch_size`` due rows (skipping rows another transaction holds),
    erase the unheld ones through their rule (which writes certificates and audit events), and
    commit. ``at`` is for tests and benchmarks; the schedule uses now.
    """
    with _sweep_lock():
        RetentionRun.objects.filter(status=RetentionRunStatus.RUNNING).update(
            status=RetentionRunStatus.INTERRUPTED, finished_at=timezone.now()
        )
        run = RetentionRun.objects.create(triggered_by=triggered_by)
        run_id = str(run.run_id)
        for rule in retention_rules():
            erased = held = 0
            last = None
            while True:
                now = at or timezone.now()
                holds = _holds_in_force(now)
                with transaction.atomic():
                    batch = rule.due(now).order_by(*rule.order)
                    if last is not None:
                        batch = batch.filter(_after(rule.order, last))
                    if connection.features.has_select_for_update_skip_locked:
                        # Lock only the rows being erased, never the tables a rule joins through.
                        batch = lock_rows(batch, skip_locked=True)
                    items = list(batch[:batch_size])
                    if not items:
                        break
                    unheld = [item for item in items if not _is_held(rule, item, holds)]
                    held += len(items) - len(unheld)
                    if rule.erase_batch is not None:
                        erased += rule.erase_batch(unheld, run_id) if unheld else 0
                    else:
                        for item in unheld:
                            erased += rule.erase(item, run_id)
                    last = tuple(getattr(items[-1], name) for name in rule.order)
                    run.erased_counts[rule.code] = erased
                    run.held_counts[rule.code] = held
                    run.save(update_fields=["erased_counts", "held_counts"])
            run.erased_counts[rule.code] = erased
            run.held_counts[rule.code] = held
        run.status = RetentionRunStatus.FINISHED
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "finished_at", "erased_counts", "held_counts"])
        return run


# --- legal holds ---------------------------------------------------------------------------------


def legal_hold_place(*, actor: User, target: str, reason: str, until: datetime | None = None) -> LegalHold:
    """Place a legal hold on a record the actor's organisation is party to (DPO only). While in
    force it blocks erasure of what it covers. ``target`` is ``"<scope>:<id>"`` from the picker
    (``hold_target_choices``); anything the organisation is not party to — or that does not exist —
    is not found. Transaction: its own; audited as an ``alteration``."""
    if not can_place_hold(actor):
        raise PermissionRefused("Only a data protection officer can place a legal hold.")
    scope, _, target_id = str(target).partition(":")
    kind = hold_target(scope)
    if kind is None:
        raise ValidationFailed("Choose what the hold covers.", code="unknown_scope")
    record = kind.candidates(actor).filter(pk=target_id).first() if is_id(target_id) else None
    if record is None:
        raise NotFound("No such record to hold.", code="hold_target_not_found")
    if not reason.strip():
        raise ValidationFailed("Give the reason for the hold.", code="reason_required")
    if until is not None and until <= timezone.now():
        raise ValidationFailed("A hold must end in the future.", code="hold_in_past")
    supplier, operator = kind.parties(record)
    with transaction.atomic():
        hold = LegalHold.objects.create(
            scope=scope,
            target_id=str(record.pk),
            target_label=kind.label(record)[:300],
            reason=reason.strip(),
            placed_by=actor,
            until=until,
            supplier_organisation_id=supplier,
            operator_organisation_id=operator,
            placed_by_organisation=actor.organisation,
        )
        audit_record(
            action=AuditAction.ALTERATION,
            event="legal_hold.placed",
            actor=actor,
            target=hold,
            justification=reason.strip(),
            details={"scope": scope, "target_id": str(record.pk), "until": until.isoformat() if until else None},
        )
    return hold


def legal_hold_release(*, actor: User, hold: LegalHold, reason: str) -> LegalHold:
    """Release a hold: only the side that placed it (its organisation or that organisation's force)."""
    hold = hold_for(actor, hold.pk, to="release")
    if not reason.strip():
        raise ValidationFailed("Give the reason for releasing the hold.", code="reason_required")
    with transaction.atomic():
        hold = lock_rows(LegalHold.objects).get(pk=hold.pk)
        if hold.released_at:
            return hold
        hold.released_at = timezone.now()
        hold.released_by = actor
        hold.release_reason = reason.strip()
        hold.save(update_fields=["released_at", "released_by", "release_reason"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="legal_hold.released",
            actor=actor,
            target=hold,
            justification=reason.strip(),
        )
    return hold
