"""Live micro-batching: the frames that a process's threads match at the same moment share one engine pass.

On a GPU the cost of a live frame is mostly per call, not per face: a frame conversion, a device round trip per
detector stage and an embedder launch for the frame's few faces. One frame per call gave 21.9 frames/s on an H100
where sixteen frames per call gave 66.0 (BENCHMARKS.md, "GPU: detection + embedding end to end"). So a GPU worker runs
one process with many task threads (``make gpu-worker``: Celery's threads pool), each thread running the ordinary
per-frame task (``process_frame``: its claim, exactly-once outcome, retries and acknowledgement stay per frame), and
each thread hands its decoded frame to this process's ``LiveBatcher`` instead of calling the engine itself. The
batcher's one thread takes every frame waiting at that moment, several cameras' frames together, up to
``max_frames``, runs them through the detector and the embedder in one pass, and gives each thread back its own
faces. Nothing waits for a batch to fill: a frame that arrives while a pass runs goes into the next one, so under
light load a frame is matched at once and under heavy load the batches grow by themselves (``max_wait`` can add a
short wait for company, measured in BENCHMARKS.md, "Live micro-batching").

Why not celery-batches: it acknowledges and retries a batch of task messages as one, while a frame's outcome must be
counted exactly once per frame, with its own retries (``tasks.py``); batching inside the worker keeps every per-frame
guarantee and batches only the arithmetic.

Detection where it batches: MTCNN on CUDA runs same-size frames through each stage together, so the batcher detects
there. YuNet runs in onnxruntime on the CPU one frame at a time (its graph takes one image), so each task thread
detects its own frame in parallel with the others (onnxruntime releases the GIL) and only the faces' embedding is
batched; a frame without a face never waits for the batcher.

Nothing about a frame outlives the pass: pictures, faces and embeddings are handed back and dropped, as in
``matching.frame_process``. One frame failing (an exception in the pass) does not fail the others: the batch is run
again frame by frame and only the failing frame gets the error.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

logger = logging.getLogger(__name__)

# How long a task thread waits for its frame's pass before giving up (the frame is then counted ``failed``).
RESULT_TIMEOUT_SECONDS = 30.0
_STOP = object()


@dataclass(slots=True)
class _Frame:
    pixels: np.ndarray | Image.Image
    faces: list | None  # detected in the caller's thread (YuNet), or None: the batcher detects
    result: Future = field(default_factory=Future)


@dataclass(slots=True)
class BatchFigures:
    """What the batcher did since it started: passes run and frames they held (no frame content)."""

    passes: int = 0
    frames: int = 0
    largest: int = 0
    retried_alone: int = 0


class LiveBatcher:
    """Coalesces concurrent live analyses of one engine into shared passes (module docstring)."""

    def __init__(self, engine, *, max_frames: int, max_wait: float = 0.0, detect_in_pass: bool | None = None) -> None:
        from recognition.engine.yunet import rgb_pixels

        if max_frames < 2:
            raise ValueError("A live batcher needs room for at least two frames a pass.")
        self.engine = engine
        self.max_frames = int(max_frames)
        self.max_wait = max(0.0, float(max_wait))
        self.figures = BatchFigures()
        self._rgb_pixels = rgb_pixels
        self._pixels_once = engine.detector_name == "yunet" and engine.embedder_name == "sface"
        # Where detection happens (module docstring): the caller's thread unless the detector batches frames (MTCNN
        # on CUDA); ``detect_in_pass`` decides otherwise (tests run the GPU's arrangement on a CPU).
        if detect_in_pass is None:
            detect_in_pass = engine.detector_name == "mtcnn" and engine.device.type == "cuda"
        self.detect_in_caller = not detect_in_pass
        self._queue: queue.SimpleQueue[_Frame] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="oversight-live-batcher", daemon=True)
        self._thread.start()

    def analyse(self, picture) -> list:
        """The faces of one decoded frame with their live embeddings (``FaceEngine.analyse(..., live=True)[0]``)."""
        # Read once as an array where detector and alignment both take one (as FaceEngine.analyse does).
        pixels = self._rgb_pixels(picture) if self._pixels_once else picture
        faces = None
        if self.detect_in_caller:
            faces = self.engine.detect([pixels])[0]
            if not faces:
                return []
        frame = _Frame(pixels=pixels, faces=faces)
        self._queue.put(frame)
        try:
            return frame.result.result(timeout=RESULT_TIMEOUT_SECONDS)
        finally:
            del frame

    def stop(self) -> None:
        """End the batcher's thread once the frames already handed to it are answered."""
        self._queue.put(_STOP)
        self._thread.join(timeout=RESULT_TIMEOUT_SECONDS)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            deadline = time.monotonic() + self.max_wait
            while len(batch) < self.max_frames:
                try:
                    left = deadline - time.monotonic()
                    frame = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if frame is _STOP:
                    stopping = True
                    break
                batch.append(frame)
            try:
                self._pass(batch)
            except BaseException as error:  # noqa: BLE001 - the batcher thread outlives anything one pass does
                for frame in batch:
                    if not frame.result.done():
                        frame.result.set_exception(error)
            finally:
                del batch

    def _pass(self, batch: list[_Frame]) -> None:
        figures = self.figures
        figures.passes += 1
        figures.frames += len(batch)
        if len(batch) > figures.largest:  # a few lines in a worker's life: how far its batches have grown
            figures.largest = len(batch)
            if len(batch) > 1:
                logger.info(
                    "Live batching: a pass of %d frames (largest so far; %d frames in %d passes)",
                    len(batch),
                    figures.frames,
                    figures.passes,
                )
        try:
            results = self._analyse(batch)
        except Exception:  # noqa: BLE001 - find the frame that failed: each alone, the others still answered
            if len(batch) == 1:
                raise
            logger.warning("A live batch of %d frames failed; its frames are matched one by one", len(batch))
            for frame in batch:
                figures.retried_alone += 1
                try:
                    frame.result.set_result(self._analyse([frame])[0])
                except Exception as error:  # noqa: BLE001 - this frame's own failure, counted by its task
                    frame.result.set_exception(error)
            return
        for frame, faces in zip(batch, results, strict=True):
            frame.result.set_result(faces)

    def _analyse(self, batch: list[_Frame]) -> list[list]:
        pictures = [frame.pixels for frame in batch]
        faces = [frame.faces for frame in batch]
        undetected = [n for n, found in enumerate(faces) if found is None]
        if undetected:
            for n, found in zip(undetected, self.engine.detect([pictures[n] for n in undetected]), strict=True):
                faces[n] = found
        return self.engine.embed_faces(pictures, faces, live=True)
