"""The retention registry: each kind of personal data registers the rule that says when it must go
and how to erase it (the pattern pretix uses for its data shredders). Governance defines the
registry and runs the sweep; it never needs to know what a face template or an alert is.

A rule provides:
- ``due(at)``: a queryset of the items whose retention has passed at ``at`` (must use an index:
  the sweep pages through it by primary key);
- ``hold_keys(item)``: the (scope, target id) pairs whose legal hold would block erasing it;
- ``erase(item, run_id)``: erase one item *inside the caller's transaction*, writing its deletion
  certificates and audit event; returns how many things were erased; must be idempotent;
- ``order``: the columns the sweep pages through ``due`` by (keyset pagination), matching the rule's
  index, e.g. ``("retention_due_at", "pk")`` — so finding the next batch never scans rows that are
  not due, however large the table grows;
- optionally ``erase_batch(items, run_id)``: the same for a whole batch at once (bulk updates, one
  audit event naming every item), for kinds of data that fall due in the hundreds of thousands;
- ``visible(actor, queryset)``: the part of ``due`` the actor's organisation may see on the
  dashboard (counts and examples are scoped like every list; default: regulators only).

Legal holds are placed on records through the same pattern: each kind of record that can be held
registers a ``HoldTarget`` saying which of its records an actor's organisation is party to (the
picker) and which two organisations a hold on it concerns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from governance.registry import Registry


@dataclass(frozen=True)
class RetentionRule:
    code: str
    title: str
    description: str
    due: Callable[[datetime], QuerySet]
    erase: Callable[[Any, str | None], int]
    hold_keys: Callable[[Any], list[tuple[str, str]]] = field(default=lambda item: [])
    describe: Callable[[Any], str] = field(default=str)
    erase_batch: Callable[[list[Any], str | None], int] | None = None
    order: tuple[str, ...] = ("pk",)
    visible: Callable[[Any, QuerySet], QuerySet] = field(
        default=lambda actor, queryset: _regulators_only(actor, queryset)
    )


def _regulators_only(actor: Any, queryset: QuerySet) -> QuerySet:
    from governance.access import is_regulator

    return queryset if is_regulator(actor) else queryset.none()


def visible_by_parties(*, supplier: str, operator: str | None) -> Callable[[Any, QuerySet], QuerySet]:
    """A rule's ``visible`` for items whose two sides are in these columns (``parties_filter``)."""

    def visible(actor: Any, queryset: QuerySet) -> QuerySet:
        from governance.access import parties_filter

        return queryset.filter(parties_filter(actor, supplier=supplier, operator=operator))

    return visible


_RULES: Registry[RetentionRule] = Registry("retention rule")


def retention_rule_register(rule: RetentionRule) -> RetentionRule:
    return _RULES.register(rule.code, rule)


def retention_rules() -> list[RetentionRule]:
    return _RULES.values()


def retention_rule(code: str) -> RetentionRule:
    return _RULES[code]


@dataclass(frozen=True)
class HoldTarget:
    """A kind of record a legal hold can be placed on (``scope`` is a ``HoldScope`` value).

    ``candidates(actor)``: the records of this kind the actor's organisation is party to (the
    picker offers nothing else, and placing a hold on anything else is "not found");
    ``parties(record)``: (supplier organisation id, operator organisation id) of the record;
    ``label(record)``: how the picker and the hold name it.
    """

    scope: str
    title: str
    candidates: Callable[[Any], QuerySet]
    parties: Callable[[Any], tuple[int | None, int | None]]
    label: Callable[[Any], str] = field(default=str)


_HOLD_TARGETS: Registry[HoldTarget] = Registry("hold target")


def hold_target_register(target: HoldTarget) -> HoldTarget:
    return _HOLD_TARGETS.register(target.scope, target)


def hold_targets() -> list[HoldTarget]:
    return _HOLD_TARGETS.values()


def hold_target(scope: str) -> HoldTarget | None:
    return _HOLD_TARGETS.get(scope)
