"""Live matching on the embedded default (no broker): a bounded in-process queue and frame worker thread(s).

Without a broker Celery runs tasks in the calling thread, so a camera's POST used to wait for detection, embedding and
the gallery search of its own frame, and the very first frame for the engine to be built (~40 s). Under
``manage.py serve`` (``serve_start``, registered with governance's serve hooks) the live engine is built before the
server answers, and ``frame_submit`` hands each accepted frame's key to this queue instead: the request is answered
202 at once, and a worker thread runs exactly what a Celery worker runs (``process_frame`` →
``matching.frame_process``), with its own database connection, closed after every frame as a worker's would be.

The queue is bounded (``OVERSIGHT_EMBEDDED_FRAME_QUEUE``): a frame arriving when it is full is shed like a frame over
a camera's in-flight limit (429, ``Retry-After``, counted as shed; its bytes and slot are dropped at once). Frames
wait here only as their random frame-store key (the bytes stay in the process-local frame store, ``frames.py``), and
a frame that waited longer than ``OVERSIGHT_FRAME_MAX_AGE_SECONDS`` is shed by ``frame_process`` itself, as scaled out.
Nothing here logs or keeps anything about a frame but its camera id and outcome.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)

_STOP = object()


class FrameWorker:
    """``threads`` worker threads taking frames from a queue of at most ``capacity``; ``start`` starts them."""

    def __init__(self, *, threads: int, capacity: int) -> None:
        self.queue: queue.Queue = queue.Queue(maxsize=max(1, int(capacity)))
        self.threads = [
            threading.Thread(target=self._run, name=f"oversight-frame-worker-{n}", daemon=True)
            for n in range(max(1, int(threads)))
        ]

    def start(self) -> FrameWorker:
        for thread in self.threads:
            thread.start()
        return self

    def submit(self, frame_key: str, camera_id: int, received_at: str) -> bool:
        """Queue one frame; False (nothing queued) when the queue is full."""
        try:
            self.queue.put_nowait((frame_key, camera_id, received_at))
        except queue.Full:
            return False
        return True

    def wait_idle(self, timeout: float) -> bool:
        """Block until every queued frame has been processed (or ``timeout`` seconds passed); True when idle."""
        deadline = time.monotonic() + timeout
        with self.queue.all_tasks_done:
            while self.queue.unfinished_tasks:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.queue.all_tasks_done.wait(left)
        return True

    def stop(self, timeout: float = 10.0) -> None:
        """Drop frames still waiting (their bytes and in-flight slots go at once) and end the threads."""
        from recognition.deployments import frames

        while True:
            try:
                item = self.queue.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                frames.frame_discard(item[0])
                frames.inflight_release(item[1], item[0])
            self.queue.task_done()
        running = [thread for thread in self.threads if thread.is_alive()]
        for _ in running:
            self.queue.put(_STOP)
        for thread in running:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            try:
                if item is _STOP:
                    return
                self._process(*item)
            finally:
                self.queue.task_done()

    @staticmethod
    def _process(frame_key: str, camera_id: int, received_at: str) -> None:
        from datetime import datetime

        from recognition.deployments.models import FrameDropReason
        from recognition.deployments.services.frames import frame_outcome_count
        from recognition.deployments.tasks import process_frame

        close_old_connections()
        try:
            # The task's own body, run as an eager task (its in-process path settles an outcome it
            # could not count at once), exactly what a worker runs.
            process_frame.apply(args=[frame_key, camera_id, received_at], throw=True)
        except Exception as error:  # noqa: BLE001 - the worker must outlive one bad frame; it is counted
            logger.error("Frame for camera %s failed in the embedded worker (%s)", camera_id, type(error).__name__)
            try:
                frame_outcome_count(
                    frame_key=frame_key,
                    camera_id=camera_id,
                    received_at=datetime.fromisoformat(received_at),
                    outcome=FrameDropReason.FAILED,
                )
            except Exception:  # noqa: BLE001 - the database itself may be what failed
                logger.exception("Could not count the failed frame for camera %s", camera_id)
        finally:
            close_old_connections()


_lock = threading.Lock()
_worker: FrameWorker | None = None


def worker() -> FrameWorker | None:
    """The running embedded frame worker, or None (frames then go to ``process_frame.apply_async``)."""
    return _worker


def worker_install(new: FrameWorker | None) -> FrameWorker | None:
    """Make ``new`` the process's frame worker (None: none); returns the previous one, not stopped."""
    global _worker
    with _lock:
        previous, _worker = _worker, new
    return previous


def serve_start(stdout=None):
    """``manage.py serve`` hook: on the embedded default build the live engine now, not on the first frame, and
    start the frame worker. Returns the function that stops it (None when a broker's workers match frames).

    An engine that cannot be built (weights missing or failing their pinned hash) stops the server here."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        return None
    from recognition.selectors import live_backend, live_engine

    started = time.perf_counter()
    engine = live_engine()
    seconds = time.perf_counter() - started
    new = FrameWorker(
        threads=settings.OVERSIGHT_EMBEDDED_FRAME_WORKERS, capacity=settings.OVERSIGHT_EMBEDDED_FRAME_QUEUE
    )
    worker_install(new.start())
    if stdout is not None:
        stdout.write(
            f"Face engine {live_backend()} ready in {seconds:.1f} s ({engine.device}); live frames are matched by "
            f"{len(new.threads)} worker thread(s), queue of {new.queue.maxsize}.\n"
        )

    def stop() -> None:
        if worker_install(None) is new:
            new.stop()

    return stop
