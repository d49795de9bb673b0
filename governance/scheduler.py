"""The embedded scheduler: runs the one beat schedule (``CELERY_BEAT_SCHEDULE``) on a thread.

Used by ``manage.py serve`` in the embedded default, where there is no broker and no separate beat
process, so that time-based work (agreement activation and expiry, audit sealing, retention) still
happens on schedule without anyone clicking. Scaled out, ``celery -A config beat`` runs the same
schedule instead.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from celery.schedules import maybe_schedule
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)


class EmbeddedBeat(threading.Thread):
    def __init__(self, *, poll_seconds: float = 2.0) -> None:
        super().__init__(name="oversight-embedded-beat", daemon=True)
        self.poll_seconds = poll_seconds
        self.stopped = threading.Event()
        self.last_run: dict[str, datetime] = {}

    def run_due(self) -> list[str]:
        """Run every entry that is due (all of them on the first call). Returns their names."""
        from config.celery import app

        # Task modules are discovered lazily; the web process has not imported them yet.
        app.loader.import_default_modules()
        ran = []
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
            schedule = maybe_schedule(entry["schedule"], app=app)
            last = self.last_run.get(name)
            if last is not None and not schedule.is_due(last).is_due:
                continue
            self.last_run[name] = timezone.now()
            try:
                app.tasks[entry["task"]].apply(throw=True)
                ran.append(name)
            except Exception:  # keep the scheduler alive; the failure is logged with its traceback
                logger.exception("Scheduled task %s failed", name)
        return ran

    def run(self) -> None:
        while not self.stopped.is_set():
            self.run_due()
            # This thread's own database connection, as a request thread would after a request.
            close_old_connections()
            self.stopped.wait(self.poll_seconds)
