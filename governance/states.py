"""A service's first step on a record with a lifecycle (an agreement, a DPIA): lock its row, then refuse unless it is
in a state the action is allowed from. One sentence and one code (``invalid_state``) for every kind of record; which
states allow which action is each service's own rule (DOMAIN.md's lifecycle of that record)."""

from __future__ import annotations

from typing import Any

from governance.errors import StateConflict
from governance.locks import lock_rows


def locked_in_state(record: Any, *allowed: str, action: str) -> Any:
    """``record``'s row, locked for the caller's transaction (``lock_rows``), if its ``status`` is one of ``allowed``;
    else ``StateConflict`` "Cannot {action}: the {model's verbose name} is {status}, it must be {allowed}." (code
    ``invalid_state``)."""
    locked = lock_rows(type(record).objects).get(pk=record.pk)
    if locked.status not in allowed:
        labels = dict(type(record)._meta.get_field("status").choices)
        raise StateConflict(
            f"Cannot {action}: the {type(record)._meta.verbose_name} is {locked.get_status_display().lower()}, it must be "
            + " or ".join(str(labels[state]).lower() for state in allowed)
            + ".",
            code="invalid_state",
        )
    return locked
