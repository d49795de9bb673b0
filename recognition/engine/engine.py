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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from recognition.engine.config import EngineConfig, load_config
from recognition.engine.preprocessing import FLIP_AVERAGE_LIVE, FLIP_AVERAGE_TEMPLATES, MARGIN, PRECISION, crop_faces

if TYPE_CHECKING:  # the detector imports torch: web processes import this module and must never load torch
    from recognition.engine.detector import DetectedFace

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

        from recognition.engine.embedder import default_cpu_threads, resolve_device

        self.config = config
        self.device = resolve_device(config.device)
        if self.device.type == "cpu":
            torch.set_num_threads(config.cpu_threads or default_cpu_threads())
        self.detector_name, self.embedder_name = config.detector, config.embedder
        self.margin = MARGIN
        self.flip_average = FLIP_AVERAGE_TEMPLATES
        self.flip_average_live = FLIP_AVERAGE_LIVE
        batch_size = config.batch_size or (32 if self.device.type == "cpu" else 1024)
        if config.embedder == "facenet":
            self.embedder, embedder_id = self._facenet(config, batch_size)
        else:
            self.embedder, embedder_id = self._sface(config, batch_size)
        self.precision = self.embedder.precision
        self.embedding_size = int(getattr(self.embedder, "embedding_size", 512))
        if config.detector == "mtcnn":
            from recognition.engine.detector import Detector

            self.detector = Detector(
                device=self.device, min_face_size=config.min_face_size, thresholds=config.detection_thresholds
            )
            detector_id = "mtcnn"  # its P/R/O-Net weights ship inside facenet-pytorch 2.6.0 (pinned)
        else:
            from recognition.engine import zoo
            from recognition.engine.yunet import YuNetDetector

            model = zoo.verified_bytes(config.yunet_path or zoo.bundled_path(zoo.YUNET_FILE), sha256=zoo.YUNET_SHA256)
            self.detector = YuNetDetector(
                model=model, min_face_size=config.min_face_size, threads=torch.get_num_threads()
            )
            detector_id = f"yunet-2023mar-int8bq-{zoo.YUNET_SHA256[:12]}"
        # Live micro-batching (live_batching.py): several threads' frames in one pass where that pays (measured).
        self.live_batch_frames = max(1, config.live_batch_frames or (16 if self.device.type == "cuda" else 1))
        self._live_batcher = None
        # What made a template: stored with every template, and a gallery only holds templates of one backend.
        self.backend = f"{detector_id}+{embedder_id}"
        if self.backend != backend_id(config):  # one spelling, whether or not an engine was built
            raise RuntimeError(f"Backend id mismatch: {self.backend} / {backend_id(config)}.")
        logger.info(
            "Face engine ready: backend=%s device=%s precision=%s flip(templates)=%s flip(live)=%s live batch=%d",
            self.backend,
            self.device,
            self.precision,
            self.flip_average,
            self.flip_average_live,
            self.live_batch_frames,
        )

    def _facenet(self, config: EngineConfig, batch_size: int):
        import hashlib

        from recognition.engine.embedder import Embedder
        from recognition.engine.weights import WeightsError, load_state_dict

        kind = str(config.extra.get("WEIGHTS_KIND", "casia-webface"))
        if kind not in WEIGHTS_KINDS:
            raise WeightsError(f"RECOGNITION['WEIGHTS_KIND'] must be one of {WEIGHTS_KINDS}, not {kind!r}.")
        self.weights_kind = kind
        # bf16 is a CPU choice (measured there); on CUDA fp16 is the native fast type with the same accuracy check.
        precision = PRECISION if self.device.type == "cpu" or PRECISION == "fp32" else "fp16"
        embedder = Embedder(
            state_dict=load_state_dict(config.weights_path),
            device=self.device,
            precision=precision,
            batch_size=batch_size,
            flip_average=self.flip_average,
            verify_known_embedding=kind == "casia-webface",
            compile_on_gpu=str(config.extra.get("COMPILE_ON_GPU", "1")).lower() not in ("0", "false", "no"),
        )
        if kind == "casia-webface":  # identified by the known-embedding check of the pinned graph's conversion
            return embedder, "facenet-casia-webface"
        digest = hashlib.sha256(Path(config.weights_path).read_bytes()).hexdigest()
        return embedder, f"facenet-custom-{digest[:12]}"

    def _sface(self, config: EngineConfig, batch_size: int):
        from recognition.engine import zoo
        from recognition.engine.sface import SFaceEmbedder

        self.weights_kind = "sface-2021dec-int8bq"
        model = zoo.verified_bytes(config.sface_path or zoo.bundled_path(zoo.SFACE_FILE), sha256=zoo.SFACE_SHA256)
        # On a CPU templates in fp32; live probes in bf16 where the CPU has AMX bf16 tiles (twice as fast at the 3-7
        # faces of a frame, cosine 0.999 to fp32: sface.py, BENCHMARKS.md), else fp32 (AVX-512 bf16 alone measured
        # slower for SFace's depthwise convolutions on the AMD reference CPU); fp16 for both on CUDA.
        cpu = self.device.type == "cpu"
        embedder = SFaceEmbedder(
            model_bytes=model,
            device=self.device,
            precision="fp32" if cpu else "fp16",
            live_precision=("bf16" if cpu_has_amx_bf16() else "fp32") if cpu else "fp16",
            batch_size=batch_size,
            flip_average=self.flip_average,
        )
        return embedder, f"sface-2021dec-int8bq-{zoo.SFACE_SHA256[:12]}"

    @property
    def match_threshold(self) -> float:
        """The default cosine threshold for an alert (a deployment may override it only as a recorded decision)."""
        return self.config.match_threshold

    def detect(self, images: Sequence[Image.Image]) -> list[list[DetectedFace]]:
        """All faces in each RGB image, in detector order (highest probability first)."""
        return self.detector.detect(images)

    @property
    def crop_size(self) -> int:
        return 112 if self.embedder_name == "sface" else 160

    def crops(self, images: Sequence[Image.Image], faces: Sequence[Sequence[DetectedFace]]) -> np.ndarray:
        """The embedder's input for all faces of all images, image by image (uint8, n x size x size x 3, RGB).

        FaceNet: the detector box with a margin, resized to 160 (``preprocessing.py``). SFace: the face warped on its
        five landmarks to 112 (``alignment.py``).
        """
        if self.embedder_name == "sface":
            from recognition.engine.alignment import align_faces

            parts = [
                align_faces(image, [f.landmarks for f in image_faces])
                for image, image_faces in zip(images, faces, strict=True)
                if image_faces
            ]
        else:
            parts = [
                crop_faces(image, [f.box for f in image_faces], margin=self.margin)
                for image, image_faces in zip(images, faces, strict=True)
            ]
        size = self.crop_size
        return np.concatenate(parts) if parts else np.zeros((0, size, size, 3), dtype=np.uint8)

    def embed_crops(self, crops: np.ndarray, *, live: bool = False) -> np.ndarray:
        """Embeddings of production crops: float32 (n, ``embedding_size``), unit norm, batched.

        Templates by default; ``live=True`` for probes from camera frames (no flip averaging, see preprocessing.py).
        """
        flip = self.flip_average_live if live else self.flip_average
        if self.embedder_name == "sface":  # its live probes have their own precision (sface.py)
            return self.embedder.embed(crops, flip_average=flip, live=live)
        return self.embedder.embed(crops, flip_average=flip)

    def embed_faces(
        self, images: Sequence[Image.Image], faces: Sequence[Sequence[DetectedFace]], *, live: bool = False
    ) -> list[list[FaceWithEmbedding]]:
        """Embed the given faces of each image; crops from all images go through the embedder in shared batches."""
        embeddings = self.embed_crops(self.crops(images, faces), live=live)
        result: list[list[FaceWithEmbedding]] = []
        position = 0
        for image_faces in faces:
            result.append(
                [FaceWithEmbedding(face=f, embedding=embeddings[position + i]) for i, f in enumerate(image_faces)]
            )
            position += len(image_faces)
        return result

    def analyse(self, images: Sequence[Image.Image], *, live: bool = False) -> list[list[FaceWithEmbedding]]:
        """Detect and embed every face of each image: templates by default, live probes with ``live=True``.

        With YuNet + SFace each image's pixels are read once (one array for the detector and the alignment)."""
        if self.detector_name == "yunet" and self.embedder_name == "sface":
            from recognition.engine.yunet import rgb_pixels

            images = [rgb_pixels(image) for image in images]
        return self.embed_faces(images, self.detect(images), live=live)

    def analyse_live(self, picture: Image.Image | np.ndarray) -> list[FaceWithEmbedding]:
        """Every face of one camera frame with its live probe: what ``frame_process`` calls for each frame.

        With ``live_batch_frames`` above 1 the frame shares a detector and embedder pass with the frames other threads
        of this process are matching at the same moment (``live_batching.LiveBatcher``); the result is the same."""
        if self.live_batch_frames < 2:
            return self.analyse([picture], live=True)[0]
        return self.live_batcher().analyse(picture)

    def set_live_batching(self, max_frames: int, *, max_wait_ms: float = 0.0) -> None:
        """Change live micro-batching in this process (benchmarks compare settings side by side; tests): the next
        frames use a new batcher, or none with ``max_frames`` 1, once the current one has answered its frames."""
        with _batcher_lock:
            previous, self._live_batcher = self._live_batcher, None
            self.live_batch_frames = max(1, int(max_frames))
            self.config = replace(self.config, live_batch_frames=self.live_batch_frames, live_batch_wait_ms=max_wait_ms)
        if previous is not None:
            previous.stop()

    def live_batcher(self):
        """This engine's batcher of live frames, started on first use (so after any fork)."""
        if self._live_batcher is None:
            from recognition.engine.live_batching import LiveBatcher

            with _batcher_lock:
                if self._live_batcher is None:
                    self._live_batcher = LiveBatcher(
                        self, max_frames=self.live_batch_frames, max_wait=self.config.live_batch_wait_ms / 1000
                    )
        return self._live_batcher


_lock = threading.Lock()
_batcher_lock = threading.Lock()
_engines: dict[tuple[str, str], FaceEngine] = {}
_engine_pid: int | None = None


def cpu_has_amx_bf16() -> bool:
    """Whether this CPU multiplies bf16 on AMX tiles (Linux: the ``amx_bf16`` flag; elsewhere: assumed not)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            return any(line.startswith("flags") and " amx_bf16" in line for line in info)
    except OSError:
        return False


def backend_id(config: EngineConfig) -> str:
    """``FaceEngine.backend`` of an engine built from ``config``, without building it (no model is loaded)."""
    from recognition.engine import zoo

    detector = "mtcnn" if config.detector == "mtcnn" else f"yunet-2023mar-int8bq-{zoo.YUNET_SHA256[:12]}"
    if config.embedder == "sface":
        embedder = f"sface-2021dec-int8bq-{zoo.SFACE_SHA256[:12]}"
    elif str(config.extra.get("WEIGHTS_KIND", "casia-webface")) == "casia-webface":
        embedder = "facenet-casia-webface"
    else:
        import hashlib

        embedder = f"facenet-custom-{hashlib.sha256(Path(config.weights_path).read_bytes()).hexdigest()[:12]}"
    return f"{detector}+{embedder}"


def config_for(choice: str | None = None) -> EngineConfig:
    """The engine configuration of a backend choice (``"yunet+sface"``; None = the one in ``settings.RECOGNITION``)."""
    config = load_config()
    if choice:
        detector, embedder = parse_backend_choice(choice)
        if (detector, embedder) != (config.detector, config.embedder):
            # The settings' minimum face size and threshold belong to the configured pair, not to this one.
            from recognition.engine.config import DEFAULT_MIN_FACE_SIZE
            from recognition.engine.thresholds import default_threshold

            config = replace(
                config,
                detector=detector,
                embedder=embedder,
                min_face_size=DEFAULT_MIN_FACE_SIZE[detector],
                match_threshold=default_threshold(embedder),
            )
    return config


def parse_backend_choice(choice: str) -> tuple[str, str]:
    """``"yunet+sface"`` -> ``("yunet", "sface")``: the short form the commands and the switch record use."""
    from recognition.engine.config import DETECTORS, EMBEDDERS

    detector, _, embedder = choice.partition("+")
    if detector not in DETECTORS or embedder not in EMBEDDERS:
        raise ValueError(
            f"A backend is DETECTOR+EMBEDDER with a detector of {DETECTORS} and an embedder of "
            f"{EMBEDDERS}, not {choice!r}."
        )
    return detector, embedder


def get_engine(choice: str | None = None) -> FaceEngine:
    """The process's engine for a backend (``"yunet+sface"``; None = the one in ``settings.RECOGNITION``).

    One engine per backend and process, built on first call; normally only one backend is in use, and a second one
    exists only while templates are re-enrolled under it or a switch-over is under way. Raises
    ``recognition.engine.weights.WeightsError`` when weights are missing or fail verification. A process forked after
    an engine was built gets its own (the parent's torch state is not fork-safe).
    """
    global _engine_pid
    config = config_for(choice)
    key = (config.detector, config.embedder)
    with _lock:
        if _engine_pid != os.getpid():
            _engines.clear()
            _engine_pid = os.getpid()
        if key not in _engines:
            _engines[key] = FaceEngine(config=config)
        return _engines[key]
