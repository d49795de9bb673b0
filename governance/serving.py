"""What starts with the server on the embedded default: hooks that each app registers for ``manage.py serve``.

Governance runs the web server and the embedded scheduler; it does not know what else a single-machine install needs
warm before the first request (recognition registers building its face engine and starting its frame worker). A hook
is called with the command's ``stdout`` once, before the server accepts requests, and returns a function that stops
what it started, or None. A hook that raises stops the server from starting: what it was to provide is missing.
"""

from __future__ import annotations

from collections.abc import Callable

ServeHook = Callable[..., Callable[[], None] | None]

_hooks: dict[str, ServeHook] = {}


def serve_hook_register(name: str, hook: ServeHook) -> None:
    """Register (or replace) the hook called ``name``."""
    _hooks[name] = hook


def serve_hooks_start(*, stdout=None) -> list[Callable[[], None]]:
    """Run every registered hook in registration order; returns their stop functions (stop them in reverse)."""
    stops = []
    for hook in list(_hooks.values()):
        stop = hook(stdout=stdout)
        if stop is not None:
            stops.append(stop)
    return stops


def serve_hooks_stop(stops: list[Callable[[], None]]) -> None:
    for stop in reversed(stops):
        stop()
