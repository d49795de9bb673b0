"""Weights: the converted model equals the original frozen graph, and the engine refuses anything else."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from django.core.management import call_command

from recognition.engine.config import load_config
from recognition.engine.embedder import Embedder
from recognition.engine.engine import FaceEngine
from recognition.engine.evaluation import central_face_index, labelled_images, load_rgb
from recognition.engine.weights import (
    GRAPH_INPUT_NODE,
    GRAPH_OUTPUT_NODE,
    GRAPH_SHA256,
    WeightsError,
    convert_graph,
    graph_path,
    load_state_dict,
    save_state_dict_atomic,
    sha256_file,
)


def test_installed_graph_is_the_pinned_one():
    assert sha256_file(graph_path()) == GRAPH_SHA256


def test_conversion_refuses_a_graph_with_another_hash():
    with pytest.raises(WeightsError, match="refusing to convert"):
        convert_graph(expected_sha256="0" * 64)


@pytest.mark.faces
def test_converted_model_matches_opencv_on_the_original_graph(faces_dir, facenet_engine, weights_path):
    """>= 10 real dev crops from the production path; fp32 cosine >= 0.99999 against OpenCV DNN on graph_final.pb."""
    import cv2

    items = labelled_images(faces_dir)[::3]
    images = [load_rgb(item.path) for item in items]
    engine = facenet_engine
    detections = engine.detect(images)
    faces = []
    for image, found in zip(images, detections):
        index = central_face_index([f.box for f in found], width=image.width, height=image.height)
        faces.append([found[index]] if index is not None else [])
    crops = engine.crops(images, faces)
    assert len(crops) >= 10

    fp32 = Embedder(
        state_dict=load_state_dict(weights_path),
        device=torch.device("cpu"),
        precision="fp32",
        batch_size=32,
        flip_average=False,
        verify_known_embedding=True,
    )
    ours = fp32.embed(crops)
    net = cv2.dnn.readNetFromTensorflow(str(graph_path()))
    for crop, mine in zip(crops, ours):
        blob = ((crop[None].astype(np.float32) - 127.5) / 128).transpose(0, 3, 1, 2)  # NHWC -> NCHW for OpenCV
        net.setInput(np.ascontiguousarray(blob), GRAPH_INPUT_NODE)
        reference = net.forward(GRAPH_OUTPUT_NODE).ravel()
        cosine = float(mine @ reference / np.linalg.norm(reference))
        assert cosine >= 0.99999


def _facenet_config():
    return dataclasses.replace(load_config(), detector="mtcnn", embedder="facenet")


def test_engine_refuses_to_start_without_weights(tmp_path):
    config = dataclasses.replace(_facenet_config(), weights_path=tmp_path / "absent.pt")
    with pytest.raises(WeightsError, match="convert_facenet_weights"):
        FaceEngine(config=config)


def test_engine_refuses_an_unloadable_weights_file(tmp_path):
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"this is not a torch checkpoint")
    with pytest.raises(WeightsError, match="could not be loaded"):
        FaceEngine(config=dataclasses.replace(_facenet_config(), weights_path=broken))


def test_engine_refuses_weights_that_fail_the_known_embedding(tmp_path):
    """Random (untrained) weights of the right shape must never run as the CASIA model."""
    from facenet_pytorch import InceptionResnetV1

    torch.manual_seed(0)
    random_weights = tmp_path / "random.pt"
    save_state_dict_atomic(
        state_dict=InceptionResnetV1(pretrained=None, classify=False).state_dict(), path=random_weights
    )
    with pytest.raises(WeightsError, match="known CASIA-WebFace embedding"):
        FaceEngine(config=dataclasses.replace(_facenet_config(), weights_path=random_weights))


def test_convert_command_writes_loadable_weights(tmp_path, weights_path):
    target = tmp_path / "models" / "casia.pt"
    call_command("convert_facenet_weights", output=target)
    converted, existing = load_state_dict(target), load_state_dict(weights_path)
    assert converted.keys() == existing.keys()
    assert all(torch.equal(converted[key], existing[key]) for key in converted)
