"""Face detection: facenet-pytorch's MTCNN (its P/R/O-net weights ship inside the package).

Every face in a frame is detected (``keep_all``): a camera deployment must consider every passer-by against the
watchlist, and the law treats every scanned face as sensitive processing (DPA 2018 s.35) whether it matches or not,
so the detector's output is also what the "faces scanned" counters report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image


@dataclass(frozen=True, slots=True)
class DetectedFace:
    """One detected face: box ``(x1, y1, x2, y2)`` in image pixels, detector probability, 5 landmarks ``(x, y)``.

    Landmarks are left eye, right eye, nose, left and right mouth corner (MTCNN's order).
    """

    box: tuple[float, float, float, float]
    probability: float
    landmarks: tuple[tuple[float, float], ...]


class Detector:
    """MTCNN (``BatchedMTCNN``: facenet-pytorch's networks and algorithm, batched) over RGB PIL images."""

    def __init__(
        self, *, device: torch.device, min_face_size: int, thresholds: Sequence[float], factor: float = 0.709
    ) -> None:
        from recognition.engine.mtcnn import BatchedMTCNN

        self.device = device
        self.mtcnn = BatchedMTCNN(device=device, min_face_size=min_face_size, thresholds=thresholds, factor=factor)

    def detect(self, images: Sequence[Image.Image]) -> list[list[DetectedFace]]:
        """Detect faces in each image; images of equal size are run as one batch (MTCNN batches need one size)."""
        results: list[list[DetectedFace] | None] = [None] * len(images)
        by_size: dict[tuple[int, int], list[int]] = {}
        for index, image in enumerate(images):
            by_size.setdefault(image.size, []).append(index)
        for indices in by_size.values():
            batch = torch.from_numpy(np.stack([np.asarray(images[i].convert("RGB")) for i in indices]))
            for index, found in zip(indices, self.mtcnn.detect(batch)):
                results[index] = _faces(found)
        return [r if r is not None else [] for r in results]


def _faces(found) -> list[DetectedFace]:
    return [
        DetectedFace(
            box=tuple(float(v) for v in box),  # type: ignore[arg-type]
            probability=float(probability),
            landmarks=tuple((float(x), float(y)) for x, y in landmarks),
        )
        for box, probability, landmarks in zip(found.boxes, found.probabilities, found.landmarks)
    ]
