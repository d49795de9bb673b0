"""Web warm-ups (``governance.serving``): every web process runs the registered warm-ups on one background thread as it
starts, in order; one that fails is logged and the others still run."""

from __future__ import annotations

import logging
import threading

import pytest

from governance import serving


@pytest.fixture
def registered():
    saved = serving._warm_ups.snapshot()
    serving._warm_ups.clear()
    yield serving._warm_ups
    serving._warm_ups.restore(saved)


def test_warm_ups_run_in_order_off_the_starting_thread_and_a_failure_stops_none(registered, caplog):
    ran: list[tuple[str, str]] = []

    def first():
        ran.append(("first", threading.current_thread().name))
        return "ready"

    def failing():
        raise RuntimeError("no database yet")

    def last():
        ran.append(("last", threading.current_thread().name))

    serving.web_warm_up_register("first", first)
    serving.web_warm_up_register("failing", failing)
    serving.web_warm_up_register("last", last)
    caplog.set_level(logging.INFO, logger="governance.serving")
    thread = serving.web_warm_ups_start()
    thread.join(30)
    assert not thread.is_alive() and thread.daemon
    assert ran == [("first", "oversight-web-warm-ups"), ("last", "oversight-web-warm-ups")]
    assert "Warm-up failing failed" in caplog.text and "Warm-up first done" in caplog.text


def test_each_gunicorn_worker_starts_the_warm_ups(registered):
    """``make web`` runs gunicorn with ``config/gunicorn.conf.py``, whose worker hook starts them."""
    import runpy
    from pathlib import Path

    import config

    started = threading.Event()
    serving.web_warm_up_register("probe", started.set)
    hooks = runpy.run_path(str(Path(config.__file__).parent / "gunicorn.conf.py"))
    hooks["post_worker_init"](worker=None)
    assert started.wait(30)
