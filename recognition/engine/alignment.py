"""Five-landmark alignment to 112x112: the input SFace (like every ArcFace-family model) was trained on.

SFace was trained on faces warped by a similarity transform (rotation, uniform scale, translation) that puts the two
eyes, the nose tip and the two mouth corners on the fixed ArcFace template below; a box crop instead of this warp costs
it most of its accuracy. This is the same estimate OpenCV's ``FaceRecognizerSF.alignCrop`` makes (least-squares
similarity, Umeyama 1991), written out here because OpenCV 5 cannot load the bundled SFace graph (``zoo.py``).

Landmarks come from the detector in image order (the face's right eye, i.e. the eye on the image's left, first), which
is YuNet's order and MTCNN's, so either detector can feed SFace.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image

ALIGNED_SIZE = 112

# Eye (image left), eye (image right), nose tip, mouth corner (image left), mouth corner (image right), in pixels of
# the 112x112 output (insightface's arcface_dst, as used by OpenCV's alignCrop).
ARCFACE_TEMPLATE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float64,
)


def similarity_transform(source: np.ndarray, target: np.ndarray = ARCFACE_TEMPLATE) -> np.ndarray:
    """The 2x3 least-squares similarity transform taking ``source`` points (n, 2) onto ``target`` (Umeyama)."""
    src = np.asarray(source, dtype=np.float64)
    dst = np.asarray(target, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    covariance = dst_c.T @ src_c / len(src)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1
    rotation = u @ sign @ vt
    variance = (src_c**2).sum() / len(src)
    scale = float(np.trace(np.diag(singular) @ sign) / variance) if variance > 0 else 1.0
    matrix = np.empty((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - scale * rotation @ src_mean
    return matrix


def align_faces(
    image: Image.Image | np.ndarray, landmarks: Sequence[Sequence[Sequence[float]]], *, size: int = ALIGNED_SIZE
) -> np.ndarray:
    """Warp each face (5 landmarks, image pixels) onto the template: uint8 (n, size, size, 3), same channel order.

    Bilinear warp (OpenCV's alignCrop uses the same); pixels outside the image are black, as there.
    """
    if isinstance(image, Image.Image):
        image = image if image.mode == "RGB" else image.convert("RGB")  # convert() would copy an RGB image too
    pixels = np.asarray(image)
    out = np.empty((len(landmarks), size, size, 3), dtype=np.uint8)
    template = ARCFACE_TEMPLATE * (size / ALIGNED_SIZE)
    for index, points in enumerate(landmarks):
        matrix = similarity_transform(np.asarray(points, dtype=np.float64).reshape(5, 2), template)
        out[index] = cv2.warpAffine(pixels, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0)
    return out
