"""The one preprocessing path from a detected face box to the embedder's input.

Enrolment, live matching and subject-access search all go through ``crop_faces`` (then the embedder's fixed standardisation ``(x - 127.5) / 128``,
which these weights were trained with), so the accuracy
measured by the benchmark and the tests is the accuracy of every code path in the product. The constants below were
chosen by measurement on the dev faces (``python -m benchmarks.engine``; figures in BENCHMARKS.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

# FaceNet's input resolution (the CASIA-WebFace model was trained on 160x160 crops).
IMAGE_SIZE = 160

# How the three choices below were made (``python -m benchmarks.engine``, section "Preprocessing and precision choice";
# 42 labelled dev images, 70 genuine / 791 impostor pairs, every cell on the same MTCNN detections):
# - Margin: decidability d' by margin 0/16/24/28/32/44 (fp32, no flip) = 4.56/5.20/5.25/5.29/5.16/5.10; 28 has the
#   highest d' (16-32 is a plateau within the noise of 70 genuine pairs), and it is near the geometry these weights
#   were trained on (margin 44 on 182 px, centre-cropped to 160 px, i.e. about 22-27 px at 160 px).
# - Flip averaging (the mean of the embeddings of the crop and its mirror image), at margin 28, bf16: templates and
#   probes both averaged: 10-fold accuracy 99.48% -> 99.88%, d' 5.29 -> 5.35, FNMR at the product threshold unchanged
#   (11/70); templates averaged, probes not: 99.65%, d' 5.32. It doubles the embedding work per face, so it is chosen
#   per use: ON for templates (enrolment of watchlist images, subject photos, ``embed_faces``), which are few and
#   kept, and OFF for live frames, where the embedder's speed is what keeps frames (and the faces in them) from
#   queueing up before their immediate deletion. The benchmark reports the live figures (averaged template vs plain
#   probe) beside the template-to-template ones.
# - Precision: bf16 vs fp32 at margin 28: d' 5.291 vs 5.291, same 10-fold accuracy (99.30%) and same FNMR; lowest
#   cosine between the two embeddings of a dev crop 0.99989; bf16 embeds about 2.3x faster at batch 32 on the
#   reference CPU (AVX512-BF16). On CUDA the engine uses fp16 instead (see engine.py).

# Margin around the detector's box, in pixels of the 160x160 output (facenet-pytorch's convention: the box is grown by
# margin * box_size / (160 - margin) before resizing).
MARGIN = 28

# Average the embeddings of the crop and its mirror image: for templates, not for live-frame probes (see above).
FLIP_AVERAGE_TEMPLATES = True
FLIP_AVERAGE_LIVE = False

# Inference precision on CPU: "fp32" or "bf16".
PRECISION = "bf16"


def expand_box(box: Sequence[float], *, margin: int, width: int, height: int) -> tuple[int, int, int, int]:
    """Grow a detector box by the margin (in output pixels) and clip it to the image, as integer pixel edges."""
    x1, y1, x2, y2 = (float(v) for v in box)
    grow_x = margin * (x2 - x1) / (IMAGE_SIZE - margin)
    grow_y = margin * (y2 - y1) / (IMAGE_SIZE - margin)
    left = int(max(x1 - grow_x / 2, 0))
    top = int(max(y1 - grow_y / 2, 0))
    right = int(min(x2 + grow_x / 2, width))
    bottom = int(min(y2 + grow_y / 2, height))
    # A box that collapsed after clipping (a detection hugging an edge) still yields a 1-pixel crop, never an error.
    return left, top, max(right, left + 1), max(bottom, top + 1)


def crop_faces(
    image: Image.Image, boxes: Sequence[Sequence[float]], *, margin: int = MARGIN, size: int = IMAGE_SIZE
) -> np.ndarray:
    """Crop each box (with margin) from an RGB image and resize it to ``size`` x ``size``: uint8 array (n, size, size, 3).

    Resizing uses Pillow's bilinear filter, which low-passes when shrinking (as facenet-pytorch's PIL path does), so a
    large face is not aliased.
    """
    crops = np.empty((len(boxes), size, size, 3), dtype=np.uint8)
    width, height = image.size
    for index, box in enumerate(boxes):
        region = expand_box(box, margin=margin, width=width, height=height)
        crops[index] = np.asarray(image.resize((size, size), Image.Resampling.BILINEAR, box=region), dtype=np.uint8)
    return crops
