"""Engine configuration: Django's ``settings.RECOGNITION`` over defaults that also work without Django.

The engine is used from three places (enrolment, live matching, subject-access search) and also standalone
(``python -m recognition.bench`` on a bare checkout), so every value has a default here and the project settings only
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
from recognition.engine.thresholds import DEFAULT_MATCH_THRESHOLD  # noqa: E402


@dataclass(frozen=True, kw_only=True)
class EngineConfig:
    """Resolved engine settings; see ``load_config`` for where each value comes from."""

    weights_path: Path = DEFAULT_WEIGHTS_PATH
    device: str = "auto"
    # Smallest face (box side, pixels) the detector looks for: 36, not MTCNN's customary 20. Below about 40 px these
    # weights stop recognising people reliably (dev faces shrunk to 40/32/28/24/20 px, as live probes against
    # templates: FNMR at the product threshold 21/24/36/49/66%, against 16% at their native ~95 px) and the highest
    # impostor score climbs towards the threshold (0.46 at 40 px, 0.55 at 20 px),
    # so scanning smaller faces is sensitive processing (DPA 2018 s.35) with no reliable purpose. The detector's
    # minimum sits a little below those 40 px because MTCNN localises faces at its first pyramid level coarsely: at 40
    # the 44 px annotated group face is found at IoU 0.44, at 36 every annotated face at IoU >= 0.56, and the smallest
    # (37 px) are all found. ``python -m recognition.bench`` (section "Recognition by face size") re-measures it. A
    # deployment whose cameras see smaller faces can lower it (RECOGNITION_MIN_FACE_SIZE) as a recorded decision.
    min_face_size: int = 36
    detection_thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7)
    match_threshold: float = DEFAULT_MATCH_THRESHOLD
    # Crops per embedder call; None = 32 on a CPU, 1024 on CUDA (where small batches leave the GPU idle).
    batch_size: int | None = None
    max_image_pixels: int = 40_000_000
    cpu_threads: int | None = None
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

    Keys: WEIGHTS_PATH, DEVICE, MIN_FACE_SIZE, DETECTION_THRESHOLDS, MATCH_THRESHOLD, BATCH_SIZE, MAX_IMAGE_PIXELS,
    CPU_THREADS. Missing keys take the defaults of ``EngineConfig``.
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
        "WEIGHTS_PATH", "DEVICE", "MIN_FACE_SIZE", "DETECTION_THRESHOLDS", "MATCH_THRESHOLD", "BATCH_SIZE",
        "MAX_IMAGE_PIXELS", "CPU_THREADS",
    }
    return EngineConfig(
        weights_path=Path(weights),
        device=str(raw.get("DEVICE", os.environ.get("RECOGNITION_DEVICE", "auto"))),
        min_face_size=int(
            raw.get("MIN_FACE_SIZE") or os.environ.get("RECOGNITION_MIN_FACE_SIZE") or EngineConfig.min_face_size
        ),
        detection_thresholds=tuple(float(t) for t in thresholds),  # type: ignore[arg-type]
        match_threshold=float(raw.get("MATCH_THRESHOLD", DEFAULT_MATCH_THRESHOLD)),
        batch_size=int(raw["BATCH_SIZE"]) if raw.get("BATCH_SIZE") else None,
        max_image_pixels=int(raw.get("MAX_IMAGE_PIXELS", 40_000_000)),
        cpu_threads=int(cpu_threads) if cpu_threads else None,
        extra={k: v for k, v in raw.items() if k not in known},
    )


def faces_dir() -> Path:
    """The shared dev face set: ``settings.FACES_DIR``, else env ``OVERSIGHT_FACES_DIR``, else ``../shared/faces``."""
    settings = _django_settings()
    value = getattr(settings, "FACES_DIR", None) if settings is not None else None
    return Path(value or os.environ.get("OVERSIGHT_FACES_DIR") or DEFAULT_FACES_DIR)
