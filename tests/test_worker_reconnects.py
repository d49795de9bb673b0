"""Workers that heal (issue 26): the consumer tries a broker that went away again at once and then every second at
most (Celery's own consumer waits 2, 4, 6, 8 … s, so frames were shed for up to 9 s after the broker was back), and a
prefork child is given the engine's load time to come up (``worker_proc_alive_timeout``; Celery's default of 4 s
killed every replacement of a killed child). ``tests/faults/test_prefork_faults.py`` kills a real child."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from kombu import Connection

from config.celery import Consumer, app, ensure_connection_promptly

DEAD = "redis://127.0.0.1:1/0"  # nothing listens there: a real refused connection


def test_the_worker_uses_the_prompt_consumer_and_waits_for_the_engine():
    assert app.conf.worker_consumer == "config.celery:Consumer"
    # The engine loads in 6-28 s (README); Celery's default is 4 s.
    assert app.conf.worker_proc_alive_timeout >= 60


def test_reconnecting_tries_again_at_once_then_every_second_at_most():
    intervals: list[float] = []
    with Connection(DEAD, connect_timeout=1) as conn:
        with pytest.raises(Exception):  # noqa: B017, PT011 - kombu's or redis's connection error, after 4 tries
            ensure_connection_promptly(conn, lambda exc, interval: intervals.append(interval), 4)
    assert intervals and intervals[0] == 0
    assert max(intervals) <= 1


class _Messages(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_the_consumer_reconnects_through_the_prompt_intervals():
    """Celery's own ``ensure_connected`` (its error handler logs each next try), on the worker's consumer class."""
    from celery.worker.consumer import consumer as celery_consumer

    consumer = SimpleNamespace(app=app, first_connection_attempt=False, broker_connection_retry_attempt=0)
    handler = _Messages()
    celery_consumer.logger.addHandler(handler)
    disabled, celery_consumer.logger.disabled = celery_consumer.logger.disabled, False
    previous = app.conf.broker_connection_max_retries
    app.conf.broker_connection_max_retries = 3
    try:
        with Connection(DEAD, connect_timeout=1) as conn:
            with pytest.raises(Exception):  # noqa: B017, PT011
                Consumer.ensure_connected(consumer, conn)
            assert "ensure_connection" not in conn.__dict__  # the connection is left as it was
    finally:
        app.conf.broker_connection_max_retries = previous
        celery_consumer.logger.removeHandler(handler)
        celery_consumer.logger.disabled = disabled
    steps = [m for m in handler.messages if "Cannot connect" in m]
    assert steps and all("Trying again now" in s or "in 1.00 second" in s for s in steps), steps
