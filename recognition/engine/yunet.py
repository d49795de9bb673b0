"""YuNet face detection (OpenCV Zoo, 2023mar int8 block-quantised), run by OpenCV's ``FaceDetectorYN``.

Why OpenCV here and torch for the embedder: YuNet's graph loads in OpenCV 5 as shipped, and ``FaceDetectorYN`` does
the anchor decoding and NMS in C++ at any input size; on the 2-core reference CPU it takes about 12 ms for a 640x480
frame against 60-90 ms for MTCNN (BENCHMARKS.md). The model bytes are SHA-256-checked (``zoo.py``) and handed to
OpenCV from memory, so what was checked is what runs.

Choices, each measured on the dev faces (``python -m recognition.bench``):
- Score threshold 0.8: all 17 annotated group faces found and nothing in the no-face photos at 0.8-0.85; the zoo's
  0.9 misses faces, 0.6-0.7 fires on the dog photo.
- Large images are downscaled before detection (longer side to ``MAX_DETECTION_SIDE``): YuNet's anchors cover faces up
  to about 300 px, so a close-up enrolment photo at full resolution finds nothing. Boxes and landmarks are scaled back.
- The minimum face size (box shorter side) is applied after detection, with the same meaning as MTCNN's: faces too
  small to recognise reliably are not scanned (DPA 2018 s.35); ``config.py`` gives the figure per detector.
- OpenCV detectors are not thread-safe, so each thread gets its own instance (all from the same checked bytes).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image

from recognition.engine.detector import DetectedFace

SCORE_THRESHOLD = 0.8
NMS_THRESHOLD = 0.3
TOP_K = 5000
# Longer side above which an image is shrunk before detection. 1280 keeps a 1280x720 camera frame at full resolution
# (small faces stay findable) and brings a 12-megapixel enrolment photo's face into YuNet's range.
MAX_DETECTION_SIDE = 1280


class YuNetDetector:
    """Every face of each RGB image: boxes, scores and YuNet's five landmarks, highest score first."""

    def __init__(
        self,
        *,
        model: bytes,
        min_face_size: int,
        score_threshold: float = SCORE_THRESHOLD,
        max_side: int = MAX_DETECTION_SIDE,
    ) -> None:
        self._model = np.frombuffer(model, dtype=np.uint8)
        self.min_face_size = int(min_face_size)
        self.score_threshold = float(score_threshold)
        self.max_side = int(max_side)
        self._local = threading.local()
        self._instance()  # fail at start-up, not on the first frame, if OpenCV cannot load the graph

    def _instance(self):
        detector = getattr(self._local, "detector", None)
        if detector is None:
            detector = cv2.FaceDetectorYN.create(
                "onnx",
                self._model,
                np.zeros(0, dtype=np.uint8),
                (320, 320),
                self.score_threshold,
                NMS_THRESHOLD,
                TOP_K,
            )
            self._local.detector = detector
        return detector

    def detect(self, images: Sequence[Image.Image]) -> list[list[DetectedFace]]:
        return [self._detect_one(image) for image in images]

    def _detect_one(self, image: Image.Image) -> list[DetectedFace]:
        width, height = image.size
        if min(width, height) < self.min_face_size:
            return []  # no face of the minimum size fits: nothing to scan (not an error)
        # OpenCV's detector wants BGR; YuNet was trained on BGR input.
        pixels = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
        scale = min(1.0, self.max_side / max(width, height))
        if scale < 1.0:
            pixels = cv2.resize(
                pixels, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA
            )
        detector = self._instance()
        detector.setInputSize((pixels.shape[1], pixels.shape[0]))
        _, rows = detector.detect(pixels)
        if rows is None:
            return []
        faces = []
        for row in np.asarray(rows, dtype=np.float64)[np.argsort(-np.asarray(rows)[:, 14], kind="stable")]:
            x, y, w, h = (row[:4] / scale).tolist()
            if min(w, h) < self.min_face_size:
                continue
            x1, y1 = max(0.0, x), max(0.0, y)
            x2, y2 = min(float(width), x + w), min(float(height), y + h)
            if x2 - x1 < 1 or y2 - y1 < 1:
                continue
            points = (row[4:14] / scale).reshape(5, 2)
            faces.append(
                DetectedFace(
                    box=(x1, y1, x2, y2),
                    probability=float(min(1.0, row[14])),
                    landmarks=tuple((float(px), float(py)) for px, py in points),
                )
            )
        return faces
