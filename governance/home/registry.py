"""The home page's registry: each app registers the panels that say what a role must act on (the
pattern pretix uses for its event dashboard widgets). Governance builds every role's home from it
and never needs to know what an alert or a disclosure is: recognition registers "alerts waiting for
you" and "disclosures awaiting your outcome" in its ``AppConfig.ready()``.

A panel provides:
- ``roles``: the roles whose home shows it (``Role`` values);
- ``data(actor)``: what the panel shows, read through the access layer (scoped to the actor's
  organisation like every list), or ``None`` where it does not apply to this actor (a role that
  cannot see such records). The dict is the panel template's context; a ``count`` key, where
  given, is how many things wait for the actor (shown in the panel's heading);
- ``template``: the panel's template (the app's own);
- ``order``: where it stands on the page (lower first).

A navigation count (``NavCount``) puts a number beside a navigation link ("Review queue 3"): the
URL name of the link and ``count(actor)`` (through the access layer; 0 shows nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from governance.registry import Registry


@dataclass(frozen=True)
class HomePanel:
    code: str
    title: str
    roles: frozenset[str]
    data: Callable[[Any], dict | None]
    template: str
    order: int = 100


@dataclass(frozen=True)
class NavCount:
    url_name: str
    count: Callable[[Any], int]
    label: str = "waiting"


_PANELS: Registry[HomePanel] = Registry("home panel")
_NAV_COUNTS: Registry[NavCount] = Registry("navigation count")


def home_panel_register(panel: HomePanel) -> HomePanel:
    return _PANELS.register(panel.code, panel)


def home_panels() -> list[HomePanel]:
    return sorted(_PANELS.values(), key=lambda p: (p.order, p.code))


def nav_count_register(count: NavCount) -> NavCount:
    return _NAV_COUNTS.register(count.url_name, count)


def nav_counts() -> list[NavCount]:
    return _NAV_COUNTS.values()
