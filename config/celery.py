"""The Celery application.

Embedded default: no broker configured, so tasks run in-process (``task_always_eager``) and the
``serve`` command runs the beat schedule on a thread. Scaled out: ``CELERY_BROKER_URL`` points at
Redis and ``celery -A config worker`` / ``celery -A config beat`` run as separate processes.

Workers reconnect to a broker that comes back at once (``Consumer``): Celery's consumer otherwise waits 2, 4, 6, 8 …
seconds between tries, so a camera's frames were shed for up to 9 s after the broker had returned (issue 26).
"""

import functools
import os

from celery import Celery
from celery.worker.consumer import Consumer as CeleryConsumer

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Between two tries to reach the broker: the first at once, then at most one second apart.
RECONNECT_INTERVALS = {"interval_start": 0, "interval_step": 0.5, "interval_max": 1}


def ensure_connection_promptly(conn, *args, **kwargs):
    """``conn.ensure_connection`` trying again at once and then every second at most (kombu's defaults, which Celery
    keeps: 2 s, then 2 s more each time, up to 30 s)."""
    return type(conn).ensure_connection(conn, *args, **{**kwargs, **RECONNECT_INTERVALS})


class Consumer(CeleryConsumer):
    """The worker's consumer, reconnecting promptly (``CELERY_WORKER_CONSUMER``, settings)."""

    def ensure_connected(self, conn):
        conn.ensure_connection = functools.partial(ensure_connection_promptly, conn)
        try:
            return CeleryConsumer.ensure_connected(self, conn)
        finally:
            conn.__dict__.pop("ensure_connection", None)


app = Celery("oversight")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
