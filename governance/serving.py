"""What starts with the server on the embedded default: hooks that each app registers for ``manage.py serve``.

Governance runs the web server and the embedded scheduler; it does not know what else a single-machine install needs
warm before the first request (recognition registers building its face engine and starting its frame worker). A hook
is called with the command's ``stdout`` once, before the server accepts requests, and returns a function that stops
what it started, or None. A hook that raises stops the server from starting: what it was to provide is missing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from governance.registry import Registry

logger = logging.getLogger(__name__)

ServeHook = Callable[..., Callable[[], None] | None]

_hooks: Registry[ServeHook] = Registry("serve hook", replace=True)
_warm_ups: Registry[Callable[[], object]] = Registry("web warm-up", replace=True)


def serve_hook_register(name: str, hook: ServeHook) -> None:
    """Register (or replace) the hook called ``name``."""
    _hooks.register(name, hook)


def serve_hooks_start(*, stdout=None) -> list[Callable[[], None]]:
    """Run every registered hook in registration order; returns their stop functions (stop them in reverse)."""
    stops = []
    for hook in _hooks.values():
        stop = hook(stdout=stdout)
        if stop is not None:
            stops.append(stop)
    return stops


def serve_hooks_stop(stops: list[Callable[[], None]]) -> None:
    for stop in reversed(stops):
        stop()


# --- warm-ups: what every web process prepares in the background as it starts -------------------------------------
# Unlike a serve hook, a warm-up never holds the server back and runs in every web process (``manage.py serve`` and
# each gunicorn worker, ``config/gunicorn.conf.py``): work that the first request would otherwise pay for, e.g.
# recognition decrypting stored probes for the first face search of a subject access request. A failing warm-up is
# logged and the request that needs the work does it itself.


def web_warm_up_register(name: str, warm_up: Callable[[], object]) -> None:
    """Register (or replace) the warm-up called ``name``: a function of no arguments."""
    _warm_ups.register(name, warm_up)


def web_warm_ups_start() -> threading.Thread:
    """Run every registered warm-up, in registration order, on one background thread; returns it (started)."""

    def run() -> None:
        from django.db import connection

        for name, warm_up in _warm_ups.items():
            started = time.perf_counter()
            try:
                result = warm_up()
            except Exception:  # noqa: BLE001 - the request that needs it does the work instead
                logger.exception("Warm-up %s failed", name)
                continue
            finally:
                connection.close()  # this thread's own
            logger.info("Warm-up %s done in %.1f s (%s)", name, time.perf_counter() - started, result)

    thread = threading.Thread(target=run, name="oversight-web-warm-ups", daemon=True)
    thread.start()
    return thread
