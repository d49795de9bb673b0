"""``FaceEngine``: detector + embedder behind one object, built lazily once per process.

One engine per process, shared by enrolment, live matching and subject-access search, so that the accuracy measured
once (BENCHMARKS.md) is the accuracy of every path. It is never built at import time: the web process imports
this module without loading a model, and Celery builds it in ``worker_process_init`` (after fork, because torch's
thread pools and CUDA contexts do not survive a fork).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from recognition.engine.config import EngineConfig, load_config
from recognition.engine.detector import DetectedFace
from recognition.engine.preprocessing import FLIP_AVERAGE_LIVE, FLIP_AVERAGE_TEMPLATES, MARGIN, PRECISION, crop_faces

logger = logging.getLogger(__name__)

# WEIGHTS_KIND "casia-webface" (the default) means the converted graph_final.pb, whose known embedding is checked at
# start-up; "custom" (e.g. facenet-pytorch's VGGFace2 checkpoint) skips that check, which must be a recorded decision.
WEIGHTS_KINDS = ("casia-webface", "custom")


@dataclass(frozen=True, slots=True)
class FaceWithEmbedding:
    """A detected face with its template: float32 (512,), unit L2 norm."""

    face: DetectedFace
    embedding: np.ndarray

    @property
    def box(self) -> tuple[float, float, float, float]:
        return self.face.box

    @property
    def probability(self) -> float:
        return self.face.probability


class FaceEngine:
    """Detects and embeds faces. Build through ``get_engine()``; direct construction is for tests and the benchmark."""

    def __init__(self, *, config: EngineConfig) -> None:
        import torch

        from recognition.engine.detector import Detector
        from recognition.engine.embedder import Embedder, default_cpu_threads, resolve_device
        from recognition.engine.weights import WeightsError, load_state_dict

        self.config = config
        self.device = resolve_device(config.device)
        if self.device.type == "cpu":
            torch.set_num_threads(config.cpu_threads or default_cpu_threads())
        kind = str(config.extra.get("WEIGHTS_KIND", "casia-webface"))
        if kind not in WEIGHTS_KINDS:
            raise WeightsError(f"RECOGNITION['WEIGHTS_KIND'] must be one of {WEIGHTS_KINDS}, not {kind!r}.")
        self.weights_kind = kind
        self.margin = MARGIN
        self.flip_average = FLIP_AVERAGE_TEMPLATES
        self.flip_average_live = FLIP_AVERAGE_LIVE
        # bf16 is a CPU choice (measured there); on CUDA fp16 is the native fast type with the same accuracy check.
        self.precision = PRECISION if self.device.type == "cpu" or PRECISION == "fp32" else "fp16"
        self.embedder = Embedder(
            state_dict=load_state_dict(config.weights_path),
            device=self.device,
            precision=self.precision,
            batch_size=config.batch_size or (32 if self.device.type == "cpu" else 1024),
            flip_average=self.flip_average,
            verify_known_embedding=kind == "casia-webface",
            compile_on_gpu=str(config.extra.get("COMPILE_ON_GPU", "1")).lower() not in ("0", "false", "no"),
        )
        self.detector = Detector(
            device=self.device, min_face_size=config.min_face_size, thresholds=config.detection_thresholds
        )
        logger.info(
            "Face engine ready: device=%s precision=%s weights_kind=%s margin=%s flip(templates)=%s flip(live)=%s",
            self.device, self.precision, kind, self.margin, self.flip_average, self.flip_average_live,
        )

    @property
    def match_threshold(self) -> float:
        """The default cosine threshold for an alert (a deployment may override it only as a recorded decision)."""
        return self.config.match_threshold

    def detect(self, images: Sequence[Image.Image]) -> list[list[DetectedFace]]:
        """All faces in each RGB image, in detector order (highest probability first)."""
        return self.detector.detect(images)

    def crops(self, images: Sequence[Image.Image], faces: Sequence[Sequence[DetectedFace]]) -> np.ndarray:
        """The production crops (uint8, n x 160 x 160 x 3) of all faces of all images, image by image."""
        parts = [crop_faces(image, [f.box for f in image_faces], margin=self.margin)
                 for image, image_faces in zip(images, faces, strict=True)]
        return np.concatenate(parts) if parts else np.zeros((0, 160, 160, 3), dtype=np.uint8)

    def embed_crops(self, crops: np.ndarray, *, live: bool = False) -> np.ndarray:
        """Embeddings of production crops: float32 (n, 512), unit norm, batched.

        Templates by default; ``live=True`` for probes from camera frames (no flip averaging, see preprocessing.py).
        """
        return self.embedder.embed(crops, flip_average=self.flip_average_live if live else self.flip_average)

    def embed_faces(
        self, images: Sequence[Image.Image], faces: Sequence[Sequence[DetectedFace]], *, live: bool = False
    ) -> list[list[FaceWithEmbedding]]:
        """Embed the given faces of each image; crops from all images go through the embedder in shared batches."""
        embeddings = self.embed_crops(self.crops(images, faces), live=live)
        result: list[list[FaceWithEmbedding]] = []
        position = 0
        for image_faces in faces:
            result.append([FaceWithEmbedding(face=f, embedding=embeddings[position + i])
                           for i, f in enumerate(image_faces)])
            position += len(image_faces)
        return result

    def analyse(self, images: Sequence[Image.Image], *, live: bool = False) -> list[list[FaceWithEmbedding]]:
        """Detect and embed every face of each image: templates by default, live probes with ``live=True``."""
        return self.embed_faces(images, self.detect(images), live=live)


_lock = threading.Lock()
_engine: FaceEngine | None = None
_engine_pid: int | None = None


def get_engine() -> FaceEngine:
    """The process's single engine, built on first call from ``settings.RECOGNITION``.

    Raises ``recognition.engine.weights.WeightsError`` when the weights are missing or fail verification. A process
    forked after the engine was built gets its own (the parent's torch state is not fork-safe).
    """
    global _engine, _engine_pid
    with _lock:
        if _engine is None or _engine_pid != os.getpid():
            _engine = FaceEngine(config=load_config())
            _engine_pid = os.getpid()
        return _engine
