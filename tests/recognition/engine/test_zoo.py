"""The OpenCV Zoo backends: pinned model files, the SFace conversion, five-landmark alignment, small frames."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from PIL import Image

from recognition.engine import zoo
from recognition.engine.alignment import (
    ARCFACE_TEMPLATE,
    similarity_transform,
)
from recognition.engine.config import load_config
from recognition.engine.engine import FaceEngine
from recognition.engine.evaluation import labelled_images, load_rgb
from recognition.engine.weights import WeightsError


def _sface_config(**changes):
    return dataclasses.replace(load_config(), detector="yunet", embedder="sface", **changes)


@pytest.mark.parametrize("filename,sha256", [(zoo.YUNET_FILE, zoo.YUNET_SHA256), (zoo.SFACE_FILE, zoo.SFACE_SHA256)])
def test_installed_model_files_are_the_pinned_ones(filename, sha256):
    assert len(zoo.verified_bytes(zoo.bundled_path(filename), sha256=sha256)) > 100_000


@pytest.mark.parametrize("setting,filename", [("yunet_path", zoo.YUNET_FILE), ("sface_path", zoo.SFACE_FILE)])
def test_engine_refuses_a_model_file_with_another_hash(tmp_path, setting, filename):
    altered = bytearray(zoo.bundled_path(filename).read_bytes())
    altered[len(altered) // 2] ^= 0x01  # one bit of one weight
    path = tmp_path / filename
    path.write_bytes(bytes(altered))
    with pytest.raises(WeightsError, match="refuses to start"):
        FaceEngine(config=_sface_config(**{setting: path}))


def test_engine_refuses_a_missing_model_file(tmp_path):
    with pytest.raises(WeightsError, match="cannot be read"):
        FaceEngine(config=_sface_config(sface_path=tmp_path / "absent.onnx"))


def test_converted_sface_equals_the_quantised_graph():
    """The torch module computes what the shipped int8 graph computes (ONNX's reference runtime on the original)."""
    import onnx
    from onnx.reference import ReferenceEvaluator

    data = zoo.verified_bytes(zoo.bundled_path(zoo.SFACE_FILE), sha256=zoo.SFACE_SHA256)
    module = zoo.sface_module(data)
    batch = torch.from_numpy(np.random.default_rng(0).uniform(0, 255, (3, 3, 112, 112)).astype(np.float32))
    with torch.no_grad():
        ours = module(batch).numpy()
    reference = ReferenceEvaluator(onnx.load_from_string(data))
    for row, image in zip(ours, batch.numpy()):
        expected = reference.run(None, {"data": image[None]})[0][0]
        np.testing.assert_allclose(row, expected, atol=1e-4 * np.abs(expected).max())


def test_similarity_transform_recovers_a_known_warp():
    angle, scale, shift = np.deg2rad(12.0), 1.7, np.array([31.0, -8.0])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    source = (ARCFACE_TEMPLATE - shift) @ np.linalg.inv(scale * rotation).T  # points that map onto the template
    matrix = similarity_transform(source)
    np.testing.assert_allclose(source @ matrix[:, :2].T + matrix[:, 2], ARCFACE_TEMPLATE, atol=1e-9)


@pytest.mark.faces
def test_alignment_puts_the_eyes_on_the_template(faces_dir, sface_engine):
    """Detect, align, detect again in the 112x112 crop (padded): the eyes land where SFace expects them."""
    items = labelled_images(faces_dir)[::6]
    images = [load_rgb(item.path) for item in items]
    faces = [[max(found, key=lambda f: f.probability)] for found in sface_engine.detect(images)]
    crops = sface_engine.crops(images, faces)
    assert crops.shape == (len(items), 112, 112, 3) and crops.dtype == np.uint8
    for crop in crops:
        canvas = Image.new("RGB", (224, 224))
        canvas.paste(Image.fromarray(crop), (56, 56))
        (again,) = sface_engine.detect([canvas])
        eyes = np.array(max(again, key=lambda f: f.probability).landmarks[:2]) - 56
        # Within YuNet's own landmark noise on a 112 px face (a few pixels); a wrong warp is off by tens.
        assert np.abs(eyes - ARCFACE_TEMPLATE[:2]).max() < 8.0, eyes
        distance = np.linalg.norm(eyes[1] - eyes[0])
        assert abs(distance / np.linalg.norm(ARCFACE_TEMPLATE[1] - ARCFACE_TEMPLATE[0]) - 1) < 0.15, distance


@pytest.mark.faces
def test_sface_wants_rgb(faces_dir, sface_engine):
    """The channel order is the one that separates the dev identities best (BGR raises the top impostor score)."""
    from recognition.engine.evaluation import all_pairs, separation
    from recognition.engine.sface import SFaceEmbedder

    items = labelled_images(faces_dir)
    images = [load_rgb(item.path) for item in items]
    faces = [[max(found, key=lambda f: f.probability)] for found in sface_engine.detect(images)]
    crops = sface_engine.crops(images, faces)
    pairs, same = all_pairs([item.identity for item in items])
    data = zoo.verified_bytes(zoo.bundled_path(zoo.SFACE_FILE), sha256=zoo.SFACE_SHA256)
    results = {}
    for order in ("RGB", "BGR"):
        embedder = SFaceEmbedder(
            model_bytes=data,
            device=torch.device("cpu"),
            precision="fp32",
            batch_size=64,
            flip_average=False,
            channel_order=order,
        )
        vectors = embedder.embed(crops)
        scores = np.sum(vectors[pairs[:, 0]] * vectors[pairs[:, 1]], axis=1)
        results[order] = (scores[~same].max(), separation(scores, same))
    assert sface_engine.embedder.channel_order == "RGB"
    assert results["RGB"][0] < results["BGR"][0] - 0.03


def test_frames_smaller_than_the_minimum_face_give_no_faces(engine):
    """Below the detector's minimum face size nothing is scanned: an empty result, not an exception (was a 500)."""
    side = engine.config.min_face_size - 1
    tiny = [Image.new("RGB", (side, 200), (120, 90, 60)), Image.new("RGB", (8, 8))]
    assert engine.detect(tiny) == [[], []]
    assert engine.analyse(tiny, live=True) == [[], []]
    assert engine.crops(tiny, [[], []]).shape[0] == 0


def _opencv_yunet(data: bytes, size):
    """OpenCV's own runner of the same graph (``FaceDetectorYN``), the reference for ours (onnxruntime)."""
    import cv2

    detector = cv2.FaceDetectorYN.create("onnx", np.frombuffer(data, np.uint8), np.zeros(0, np.uint8), size, 0.8, 0.3)
    detector.setInputSize(size)
    return detector


@pytest.mark.faces
def test_yunet_under_onnxruntime_finds_what_opencv_finds(faces_dir):
    """Same faces, boxes, landmarks and scores as ``cv2.FaceDetectorYN`` on the dev photos and camera-sized frames of
    the group photos (onnxruntime runs the dequantised graph; the decoding and NMS are OpenCV's, written out)."""
    from recognition.engine.evaluation import camera_frames as _frames
    from recognition.engine.yunet import YuNetDetector, rgb_pixels

    data = zoo.verified_bytes(zoo.bundled_path(zoo.YUNET_FILE), sha256=zoo.YUNET_SHA256)
    ours = YuNetDetector(model=data, min_face_size=20)
    group = [load_rgb(p) for p in sorted((faces_dir / "dev" / "_multi").glob("*.jpg"))]
    images = group + [load_rgb(p) for p in sorted((faces_dir / "dev" / "_none").glob("*.jpg"))]
    images += [load_rgb(item.path) for item in labelled_images(faces_dir)[::4]]
    images += _frames(group, 640, 480) + _frames(group, 1280, 720)
    faces = 0
    for image in images:
        pixels = rgb_pixels(image)
        _, expected = _opencv_yunet(data, image.size).detect(np.ascontiguousarray(pixels[:, :, ::-1]))
        expected = np.zeros((0, 15), np.float32) if expected is None else expected
        got = ours.rows(pixels)
        assert got.shape == expected.shape
        order = lambda rows: rows[np.lexsort((rows[:, 1], rows[:, 0]))]  # noqa: E731 - NMS ties may swap rows
        np.testing.assert_allclose(order(got), order(expected), atol=0.05)
        faces += len(got)
    assert faces >= 17 * 3  # the group photos' faces were compared, not only empty results


@pytest.mark.faces
def test_live_probes_in_bf16_agree_with_fp32_on_real_faces(faces_dir, sface_engine):
    """Live probes take the bf16 runner on a CPU with AMX bf16 (fp32 on any other CPU: bf16 measured slower there);
    on the dev faces they stay within rounding of the fp32 ones either way."""
    from recognition.engine.engine import cpu_has_amx_bf16

    expected = "bf16" if cpu_has_amx_bf16() else "fp32"
    items = labelled_images(faces_dir)[:16]
    images = [load_rgb(item.path) for item in items]
    faces = [found[:1] for found in sface_engine.detect(images)]
    crops = sface_engine.crops(images, faces)
    fp32 = sface_engine.embedder.embed(crops, flip_average=False)
    live = sface_engine.embed_crops(crops, live=True)
    if sface_engine.device.type == "cpu":
        assert sface_engine.embedder.live_precision == expected
    assert float(np.min(np.sum(fp32 * live, axis=1))) > 0.995
