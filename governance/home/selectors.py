"""What a user's home shows: the registered panels for the roles they hold (``registry``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from governance.home.registry import HomePanel, home_panels
from governance.organisations.roles import Role


@dataclass
class ShownPanel:
    panel: HomePanel
    data: dict

    @property
    def count(self) -> int | None:
        return self.data.get("count")


def roles_held(user: Any) -> set[str]:
    names = set(user.groups.values_list("name", flat=True))
    return {role.value for role in Role if role.group_name in names}


def home_for(*, user: Any) -> dict:
    """The panels for the user's roles, each read through the access layer by its app."""
    roles = roles_held(user)
    shown = []
    for panel in home_panels():
        if not roles & panel.roles:
            continue
        data = panel.data(user)
        if data is not None:
            shown.append(ShownPanel(panel, data))
    return {
        "roles": roles,
        "panels": shown,
        "waiting": sum(p.count or 0 for p in shown),
        "is_dpo": Role.DPO.value in roles,
        "is_regulator": Role.REGULATOR.value in roles,
        "is_admin": Role.ADMIN.value in roles,
    }
