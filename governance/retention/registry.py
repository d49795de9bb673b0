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
  audit event naming every item), for kinds of data that fall due in the hundreds of thousands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import QuerySet


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


_RULES: dict[str, RetentionRule] = {}


def retention_rule_register(rule: RetentionRule) -> RetentionRule:
    _RULES[rule.code] = rule
    return rule


def retention_rules() -> list[RetentionRule]:
    return list(_RULES.values())


def retention_rule(code: str) -> RetentionRule:
    return _RULES[code]
