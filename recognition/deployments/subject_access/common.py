"""What the subject-access providers share: the justifications they audit, dates in words, the threshold of the
backend that made an embedding, and a stored embedding decrypted."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from governance import encryption
from governance.presentation import when_text

SEARCH_JUSTIFICATION = "Subject access request: a candidate shown to the DPO to confirm or dismiss."


COMPILE_JUSTIFICATION = "Subject access request: the item compiled into the response to the data subject."


def local_text(value: datetime | None) -> str:
    return when_text(value) if value else "—"  # the one date format, zone stated


def backend_threshold(backend: str) -> float | None:
    """The match threshold of the backend that made ``backend``'s embeddings (None: no configured backend)."""
    from recognition.engine.config import DETECTORS, EMBEDDERS
    from recognition.engine.engine import backend_id, config_for
    from recognition.selectors import live_backend_choice

    choices = [live_backend_choice(), None] + [f"{d}+{e}" for d in DETECTORS for e in EMBEDDERS]
    for choice in choices:
        config = config_for(choice)
        try:
            if backend_id(config) == backend:
                return float(config.match_threshold)
        except OSError:  # a custom FaceNet checkpoint that is not on this machine
            continue
    return None


def stored_vector(token: bytes) -> np.ndarray:
    return np.frombuffer(encryption.decrypt(bytes(token)), dtype=np.float32)
