"""What the deployment services share: the actor's name as audited, and the minimum length of a written justification."""

from __future__ import annotations

from governance.organisations.models import User

MIN_TEXT_CHARS = 10


def actor_name(actor: User | None) -> str:
    return (actor.get_full_name() or actor.get_username()) if actor else "system"


def text_required(value: str, field: str, message: str, errors: dict[str, list[str]]) -> None:
    if len((value or "").strip()) < MIN_TEXT_CHARS:
        errors.setdefault(field, []).append(message)
