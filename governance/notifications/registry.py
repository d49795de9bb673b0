"""The registry of clocks: every deadline or waiting state the product keeps that someone must be reminded of
(the pattern of the home panels, retention rules and subject-data providers). Governance never imports
recognition: recognition registers its own clocks (outcomes overdue, authorisations and watchlist reviews
waiting) in its ``AppConfig.ready()``.

A clock provides:
- ``roles``: the roles (``Role`` values) whose holders it reminds;
- ``notices(actor, now)``: the notices due for this actor now, read through the access layer (so a notice
  is never about a record of an organisation the actor may not see). Each rule of when a clock runs late is
  the record's own (``subject_request_deadline``, ``breach_commissioner_clock`` …), never recomputed here.

The sweep (``notifications_raise``) raises each due notice once per recipient and stage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from governance.registry import Registry


@dataclass(frozen=True)
class Notice:
    """``key``: the record (``"breach:12"``); ``stage``: the point its clock reached (``"overdue"``);
    ``title``: the inbox line (a reference and the state, never a person's details); ``url``: where the work
    is done."""

    key: str
    stage: str
    title: str
    url: str


@dataclass(frozen=True)
class Clock:
    code: str
    label: str
    roles: frozenset[str]
    notices: Callable[[Any, datetime], Iterable[Notice]]


_CLOCKS: Registry[Clock] = Registry("clock")


def clock_register(clock: Clock) -> Clock:
    return _CLOCKS.register(clock.code, clock)


def clocks() -> list[Clock]:
    return sorted(_CLOCKS.values(), key=lambda c: c.code)
