"""The batched detector gives facenet-pytorch's MTCNN results: same faces, boxes, probabilities and landmarks.

``BatchedMTCNN`` replaces the stock per-box loops with summed-area-table crops; the crops are the same numbers, so the
results must match the stock implementation (same networks and weights, same settings) to float rounding, on every
dev photo, on camera-sized frames, and in a batch of several frames.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from recognition.engine.evaluation import load_rgb
from recognition.engine.mtcnn import BatchedMTCNN, _area_resize, _area_resize_frames, _summed_area_table

pytestmark = pytest.mark.faces

SETTINGS = {"min_face_size": 20, "thresholds": [0.6, 0.7, 0.7], "factor": 0.709}


@pytest.fixture(scope="module")
def detectors():
    from facenet_pytorch import MTCNN

    stock = MTCNN(keep_all=True, select_largest=False, device="cpu", **SETTINGS)
    return stock, BatchedMTCNN(device=torch.device("cpu"), **SETTINGS)


def _camera_frame(image: Image.Image) -> np.ndarray:
    scale = min(640 / image.width, 480 / image.height)
    frame = Image.new("RGB", (640, 480))
    frame.paste(image.resize((round(image.width * scale), round(image.height * scale))), (0, 0))
    return np.asarray(frame)


def _assert_same(stock_result, batched, where):
    boxes, probabilities, landmarks = stock_result
    if boxes is None:
        assert len(batched.boxes) == 0, (
            f"{where}: stock MTCNN finds no face, the batched one finds {len(batched.boxes)}"
        )
        return
    assert len(batched.boxes) == len(boxes), f"{where}: {len(batched.boxes)} faces instead of {len(boxes)}"
    np.testing.assert_allclose(batched.boxes, np.asarray(boxes, dtype=np.float32), atol=1e-3, err_msg=where)
    np.testing.assert_allclose(batched.probabilities, np.asarray(probabilities, dtype=np.float32), atol=1e-5)
    np.testing.assert_allclose(batched.landmarks, np.asarray(landmarks, dtype=np.float32), atol=1e-3, err_msg=where)


def test_same_results_as_stock_mtcnn_on_every_dev_photo(faces_dir, detectors):
    stock, batched = detectors
    paths = sorted((faces_dir / "dev").rglob("*.jpg"))
    assert len(paths) >= 40
    found = 0
    for path in paths:
        pixels = np.asarray(load_rgb(path))
        expected = [part[0] for part in stock.detect(pixels[None], landmarks=True)]
        result = batched.detect(torch.from_numpy(pixels[None].copy()))[0]
        _assert_same(expected, result, path.name)
        found += len(result.boxes)
    assert found >= 42 + 17  # a face in every labelled photo and the annotated group faces, at least


def test_same_results_for_a_batch_of_camera_frames(faces_dir, detectors):
    stock, batched = detectors
    frames = np.stack([_camera_frame(load_rgb(path)) for path in sorted((faces_dir / "dev" / "_multi").glob("*.jpg"))])
    expected = stock.detect(frames, landmarks=True)
    results = batched.detect(torch.from_numpy(frames))
    assert len(results) == len(frames)
    for index, result in enumerate(results):
        _assert_same([part[index] for part in expected], result, f"frame {index}")


def test_area_resize_from_the_summed_area_table_equals_torch_area_interpolation():
    generator = torch.Generator().manual_seed(7)
    frames = torch.randint(0, 256, (2, 97, 131, 3), dtype=torch.uint8, generator=generator)
    table = _summed_area_table(frames)
    planes = frames.permute(0, 3, 1, 2).float()
    for size in ((97, 131), (50, 66), (13, 12), (12, 40)):
        expected = torch.nn.functional.interpolate(planes, size=size, mode="area")
        assert torch.equal(_area_resize_frames(table, *size), expected), size
    # Regions of assorted sizes (smaller and larger than the output) in either frame.
    regions = [(0, 0, 97, 131, 0), (5, 7, 30, 19, 1), (60, 100, 97, 131, 1), (10, 10, 11, 12, 0)]
    frame_index, top, bottom, left, right = (
        torch.tensor(v) for v in zip(*[(f, t, b, lft, r) for t, lft, b, r, f in regions])
    )
    for size in (24, 48):
        crops = _area_resize(table, frame_index, top, bottom, left, right, size)
        for crop, (t, lft, b, r, f) in zip(crops, regions):
            expected = torch.nn.functional.interpolate(planes[f : f + 1, :, t:b, lft:r], size=(size, size), mode="area")
            torch.testing.assert_close(crop[None], expected, rtol=0, atol=1e-4)


def test_rejects_frames_that_are_not_uint8_rgb(detectors):
    _, batched = detectors
    with pytest.raises(ValueError):
        batched.detect(torch.zeros((1, 10, 10, 3), dtype=torch.float32))
    with pytest.raises(ValueError):
        batched.detect(torch.zeros((10, 10, 3), dtype=torch.uint8))
