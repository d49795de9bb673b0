"""The one shape every registry in the product shares: things another app adds by name (retention rules,
subject-data providers, report figures, home panels, watchlist image handlers, clocks, audit words, serve hooks…),
so that governance never imports recognition (ARCHITECTURE.md) and a new kind of data means registering one more
thing, not editing the code that uses them (pretix's signals, its data shredders).

A ``Registry`` keeps its things by name in the order they were registered. Registering the same thing again under
its name changes nothing (a module imported twice registers once). Registering a *different* thing under a name
already taken is refused (``ImproperlyConfigured``: two apps claiming one name is a mistake to see at start-up, not
a silent replacement) — except in a registry made with ``replace=True``, for slots meant to be swapped (the face
engine's hooks, the serve hooks), where the newer one takes the name's place.

Tests that swap a registry's contents take a ``snapshot()`` first and ``restore()`` it after.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")


class Registry(Generic[T]):
    """Things of one kind, by name, in registration order. ``what`` names the kind in refusals ("retention rule")."""

    def __init__(self, what: str, *, replace: bool = False) -> None:
        self.what = what
        self.replace = replace
        self._things: dict[str, T] = {}

    def register(self, name: str, thing: T) -> T:
        """Add ``thing`` as ``name``; returns it (so a registration can be a decorator's or an assignment's)."""
        taken = self._things.get(name)
        if taken is not None and not self.replace and taken is not thing and taken != thing:
            raise ImproperlyConfigured(f"Two {self.what}s are registered as {name!r}.")
        self._things[name] = thing
        return thing

    def get(self, name: str) -> T | None:
        return self._things.get(name)

    def __getitem__(self, name: str) -> T:
        return self._things[name]

    def __contains__(self, name: object) -> bool:
        return name in self._things

    def __len__(self) -> int:
        return len(self._things)

    def __iter__(self) -> Iterator[str]:
        """The names, as a dict's iteration (the things: ``values()``)."""
        return iter(list(self._things))

    def items(self) -> list[tuple[str, T]]:
        """(name, thing) pairs in registration order."""
        return list(self._things.items())

    def values(self) -> list[T]:
        """The things in registration order."""
        return list(self._things.values())

    def clear(self) -> None:
        """For tests: forget everything (restore a ``snapshot`` afterwards)."""
        self._things.clear()

    def snapshot(self) -> dict[str, T]:
        return dict(self._things)

    def restore(self, snapshot: dict[str, T]) -> None:
        self._things = dict(snapshot)

    def __repr__(self) -> str:
        return f"<Registry of {len(self)} {self.what}s>"
