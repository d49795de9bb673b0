"""The face engine: image decoding, detection (YuNet or MTCNN), embedding (SFace or FaceNet) and gallery search.

Public API (imported lazily, so importing this package neither loads torch nor builds a model):

- ``decode_image(data, *, max_pixels) -> PIL.Image`` and ``ImageRejected(code, message)``
- ``get_engine() -> FaceEngine`` with ``detect``, ``embed_faces``, ``analyse``, ``match_threshold``
- ``DetectedFace``, ``FaceWithEmbedding``
- ``Gallery`` (exact top-k cosine search; ``add``, ``remove``, ``search``)
- ``WeightsError`` (the engine refuses to start)
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "decode_image": "recognition.engine.images",
    "ImageRejected": "recognition.engine.images",
    "get_engine": "recognition.engine.engine",
    "FaceEngine": "recognition.engine.engine",
    "FaceWithEmbedding": "recognition.engine.engine",
    "DetectedFace": "recognition.engine.detector",
    "Gallery": "recognition.engine.gallery",
    "WeightsError": "recognition.engine.weights",
    "load_config": "recognition.engine.config",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'recognition.engine' has no attribute {name!r}")
