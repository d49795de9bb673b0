"""YuNet face detection (OpenCV Zoo, 2023mar int8 block-quantised), run by onnxruntime with OpenCV's decoding.

Why onnxruntime: the same graph that OpenCV's ``FaceDetectorYN`` runs takes 3.8 ms for a 640x480 frame and 11 ms for
1280x720 under onnxruntime on the 2-core reference CPU, against 9 and 30 ms in OpenCV 5's DNN engine and 6.5 / 15 ms
as a bf16 TorchScript module (measured side by side; BENCHMARKS.md, "Face engine frame path"). The int8 blocks are
dequantised once at start-up (``zoo.yunet_float_graph``, the arithmetic of ``DequantizeLinear``) from bytes that were
SHA-256-checked (``zoo.py``), so what was checked is what runs. What ``FaceDetectorYN`` does around the network is done
here the same way (OpenCV's ``face_detect.cpp``): the BGR frame padded with zeros to a multiple of 32, raw 0..255
values in, each anchor's score sqrt(cls x obj) with both clamped to [0, 1], boxes and landmarks decoded per stride,
and ``cv2.dnn.NMSBoxes`` on integer boxes. ``tests/recognition/engine/test_zoo.py`` checks that the faces found are
``FaceDetectorYN``'s own on the dev frames.

Choices, each measured on the dev faces (``python -m benchmarks.engine``):
- Score threshold 0.8: all 17 annotated group faces found and nothing in the no-face photos at 0.8-0.85; the zoo's
  0.9 misses faces, 0.6-0.7 fires on the dog photo.
- Large images are downscaled before detection (longer side to ``MAX_DETECTION_SIDE``): YuNet's anchors cover faces up
  to about 300 px, so a close-up enrolment photo at full resolution finds nothing. Boxes and landmarks are scaled back.
- The minimum face size (box shorter side) is applied after detection, with the same meaning as MTCNN's: faces too
  small to recognise reliably are not scanned (DPA 2018 s.35); ``config.py`` gives the figure per detector.
- One onnxruntime session serves every thread (its ``run`` is thread-safe). Its worker threads do not spin between
  runs, so the embedder that runs next on the same cores gets them at once.
"""

from __future__ import annotations

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
STRIDES = (8, 16, 32)
DIVISOR = 32


def rgb_pixels(image: Image.Image | np.ndarray) -> np.ndarray:
    """An RGB image as a uint8 (h, w, 3) array, without a copy when it already is one."""
    if isinstance(image, np.ndarray):
        return image
    return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))


def _session(model: bytes, threads: int):
    import onnxruntime

    from recognition.engine.zoo import yunet_float_graph

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = max(1, int(threads))
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # the folded graph's unused shape constants are reported as warnings otherwise
    return onnxruntime.InferenceSession(
        yunet_float_graph(model).SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


class YuNetDetector:
    """Every face of each RGB image: boxes, scores and YuNet's five landmarks, highest score first."""

    def __init__(
        self,
        *,
        model: bytes,
        min_face_size: int,
        score_threshold: float = SCORE_THRESHOLD,
        max_side: int = MAX_DETECTION_SIDE,
        threads: int | None = None,
    ) -> None:
        import torch

        self.model_bytes = model
        self.min_face_size = int(min_face_size)
        self.score_threshold = float(score_threshold)
        self.max_side = int(max_side)
        # The engine's CPU thread count (torch's, set from RECOGNITION_CPU_THREADS) unless told otherwise.
        self._session = _session(model, threads or torch.get_num_threads())
        self._outputs = [f"{kind}_{stride}" for kind in ("cls", "obj", "bbox", "kps") for stride in STRIDES]

    def detect(self, images: Sequence[Image.Image | np.ndarray]) -> list[list[DetectedFace]]:
        return [self._detect_one(rgb_pixels(image)) for image in images]

    def rows(self, pixels: np.ndarray) -> np.ndarray:
        """``FaceDetectorYN.detect``'s result for an RGB uint8 image at its own size: (n, 15) float32 rows of
        x, y, w, h, five landmark (x, y) pairs and the score, in NMS order."""
        height, width = pixels.shape[:2]
        pad_h, pad_w = -(-height // DIVISOR) * DIVISOR, -(-width // DIVISOR) * DIVISOR
        blob = np.zeros((1, 3, pad_h, pad_w), dtype=np.float32)
        blob[0, :, :height, :width] = pixels.transpose(2, 0, 1)[::-1]  # RGB -> BGR planes: YuNet was trained on BGR
        outputs = dict(zip(self._outputs, self._session.run(self._outputs, {"input": blob}), strict=True))
        found = []
        for stride in STRIDES:
            cols = pad_w // stride
            score = np.sqrt(
                np.clip(outputs[f"cls_{stride}"][0, :, 0], 0, 1) * np.clip(outputs[f"obj_{stride}"][0, :, 0], 0, 1)
            )
            keep = np.nonzero(score >= self.score_threshold)[0]
            if not len(keep):
                continue
            c, r = (keep % cols).astype(np.float32), (keep // cols).astype(np.float32)
            bbox, kps = outputs[f"bbox_{stride}"][0, keep], outputs[f"kps_{stride}"][0, keep]
            w, h = np.exp(bbox[:, 2]) * stride, np.exp(bbox[:, 3]) * stride
            cx, cy = (c + bbox[:, 0]) * stride, (r + bbox[:, 1]) * stride
            points = np.empty((len(keep), 10), dtype=np.float32)
            points[:, 0::2] = (kps[:, 0::2] + c[:, None]) * stride
            points[:, 1::2] = (kps[:, 1::2] + r[:, None]) * stride
            found.append(np.column_stack([cx - w / 2, cy - h / 2, w, h, points, score[keep]]).astype(np.float32))
        if not found:
            return np.zeros((0, 15), dtype=np.float32)
        rows = np.concatenate(found)
        if len(rows) == 1:
            return rows
        boxes = [tuple(int(v) for v in row[:4]) for row in rows]  # OpenCV's Rect2i: truncated towards zero
        keep = cv2.dnn.NMSBoxes(boxes, rows[:, 14].tolist(), self.score_threshold, NMS_THRESHOLD, top_k=TOP_K)
        return rows[np.asarray(keep, dtype=np.int64).reshape(-1)]

    def _detect_one(self, pixels: np.ndarray) -> list[DetectedFace]:
        return self.faces_from(self.rows, pixels)

    def faces_from(self, rows_of, pixels: np.ndarray) -> list[DetectedFace]:
        """The faces of one RGB image given a runner of the network (``rows_of``, e.g. ``self.rows``): downscaling,
        minimum face size and clipping as described above."""
        height, width = pixels.shape[:2]
        if min(width, height) < self.min_face_size:
            return []  # no face of the minimum size fits: nothing to scan (not an error)
        scale = min(1.0, self.max_side / max(width, height))
        if scale < 1.0:
            pixels = cv2.resize(
                pixels, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA
            )
        rows = rows_of(pixels)
        faces = []
        for row in rows.astype(np.float64)[np.argsort(-rows[:, 14], kind="stable")]:
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
