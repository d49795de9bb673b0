"""The face embedder: facenet-pytorch InceptionResnetV1 with verified weights, batched, on CUDA or CPU.

Speed matters for the law as much as for cost: the Met's policy deletes a non-matching face "immediately and
automatically", which only holds if frames are processed as they arrive. The model is therefore prepared once for
inference: batch norms folded into their convolutions, channels-last memory layout, and on CPU a frozen TorchScript
trace (``torch.jit.freeze`` + ``optimize_for_inference`` pre-packs the weights for oneDNN; without it bf16 at batch 1
ran at 5 faces/s instead of 51 on the 2-core reference machine). fp32 results stay equal to the reference graph to
within rounding (tests/recognition/engine/test_weights.py) and the optimised module is checked against the eager one
when it is built.
"""

from __future__ import annotations

import logging
import os
import warnings

import numpy as np
import torch
from torch import nn

from recognition.engine.weights import WeightsError

logger = logging.getLogger(__name__)

EMBEDDING_SIZE = 512

# Known-embedding check for the converted CASIA-WebFace weights: the embedding of ``known_input()`` computed in fp32.
# Pinned from the conversion of graph_final.pb (SHA-256 pinned in weights.py); equal to OpenCV DNN's output on the original graph
# within 2e-7; the tolerance covers BLAS/thread-count rounding but not any real change of weights.
KNOWN_EMBEDDING_PREFIX = (
    -0.000809,
    0.055609,
    0.041416,
    0.009587,
    0.005760,
    -0.015058,
    -0.071080,
    -0.060573,
    0.000281,
    -0.032464,
    0.079921,
    -0.031805,
    0.001112,
    0.011507,
    0.005580,
    0.024718,
)
KNOWN_EMBEDDING_TOLERANCE = 1e-4


def known_input() -> np.ndarray:
    """A deterministic 160x160 RGB uint8 pattern (no RNG, so identical on every platform and library version)."""
    y, x = np.mgrid[0:160, 0:160]
    channels = [(x * 7 + y * 13) % 256, (x * x + 3 * y) % 256, (x * y // 7 + 50) % 256]
    return np.stack(channels, axis=-1).astype(np.uint8)[None]


def resolve_device(name: str) -> torch.device:
    """``auto`` means CUDA when available, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def default_cpu_threads() -> int:
    """All CPUs this process may run on. Celery workers should set CPU_THREADS to cores / concurrency instead."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def _fold_batch_norms(module: nn.Module) -> None:
    """Fold every BasicConv2d's BatchNorm into its convolution (eval-mode arithmetic, one op fewer per layer)."""
    from facenet_pytorch.models.inception_resnet_v1 import BasicConv2d
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    for child in module.modules():
        if isinstance(child, BasicConv2d) and isinstance(child.bn, nn.BatchNorm2d):
            child.conv = fuse_conv_bn_eval(child.conv, child.bn)
            child.bn = nn.Identity()


class Embedder:
    """InceptionResnetV1 (classify=False) producing L2-normalised 512-d float32 embeddings from uint8 face crops."""

    def __init__(
        self,
        *,
        state_dict: dict,
        device: torch.device,
        precision: str,
        batch_size: int,
        flip_average: bool,
        verify_known_embedding: bool,
        compile_on_gpu: bool = True,
    ) -> None:
        """Build the model; with ``verify_known_embedding`` refuse weights that are not the converted CASIA graph.

        The check runs in fp32 before any cast to a lower precision, so it tests the weights, not the arithmetic.
        """
        from facenet_pytorch import InceptionResnetV1

        if precision not in ("fp32", "bf16", "fp16"):
            raise ValueError(f"Unknown precision {precision!r}.")
        self.device = device
        self.precision = precision
        self.batch_size = batch_size
        self.flip_average = flip_average
        model = InceptionResnetV1(pretrained=None, classify=False)
        # facenet-pytorch's own checkpoints (e.g. VGGFace2) also carry classifier logits, which embeddings never use.
        weights = {k: v for k, v in state_dict.items() if not k.startswith("logits.")}
        try:
            model.load_state_dict(weights, strict=True)
        except RuntimeError as exc:
            raise WeightsError(f"The weights file does not fit InceptionResnetV1: {str(exc)[:300]}") from exc
        model.eval()
        _fold_batch_norms(model)
        model = model.to(device=device, memory_format=torch.channels_last)
        if verify_known_embedding:
            _verify_known_embedding(model, device)
        self._dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
        self.model = model.to(dtype=self._dtype)
        self._runner = self._optimise(self.model) if device.type == "cpu" else self.model
        # On CUDA, full batches run through torch.compile (Inductor fuses the ReLUs, concatenations and scaled residual
        # additions that leave cuDNN's convolutions waiting on memory): 34,300 -> 68,500 faces/s at batch 1024 on an
        # H100, embeddings unchanged (lowest cosine 1.00000). Only the full-batch shape is compiled (about 20 s, on the
        # first full batch), so partial batches (a live frame's few faces) run eagerly and never trigger a recompile.
        self._compiled = torch.compile(self.model, dynamic=False) if device.type == "cuda" and compile_on_gpu else None

    def embed(self, crops: np.ndarray, *, flip_average: bool | None = None) -> np.ndarray:
        """Embed uint8 crops (n, 160, 160, 3) in batches of ``batch_size``; returns float32 (n, 512), unit norm.

        ``flip_average`` overrides the embedder's default for this call (templates and live probes differ).
        """
        if len(crops) == 0:
            return np.zeros((0, EMBEDDING_SIZE), dtype=np.float32)
        flip = self.flip_average if flip_average is None else flip_average
        out = np.empty((len(crops), EMBEDDING_SIZE), dtype=np.float32)
        for start in range(0, len(crops), self.batch_size):
            out[start : start + self.batch_size] = self._embed_batch(crops[start : start + self.batch_size], flip)
        return out

    @torch.inference_mode()
    def _embed_batch(self, crops: np.ndarray, flip_average: bool) -> np.ndarray:
        batch = torch.from_numpy(np.ascontiguousarray(crops)).to(self.device)
        batch = batch.permute(0, 3, 1, 2).float().sub_(127.5).div_(128.0)  # fixed standardisation, NCHW view
        batch = batch.to(dtype=self._dtype).contiguous(memory_format=torch.channels_last)
        embeddings = self.forward_standardised(batch).float()
        if flip_average:
            mirrored = batch.flip(3).contiguous(memory_format=torch.channels_last)
            embeddings = embeddings + self.forward_standardised(mirrored).float()
        embeddings = torch.nn.functional.normalize(embeddings, p=2, dim=1)
        return embeddings.cpu().numpy()

    def forward_standardised(self, batch: torch.Tensor) -> torch.Tensor:
        """Raw (unnormalised) embeddings of a standardised channels-last batch in the embedder's precision."""
        if self._compiled is not None and len(batch) == self.batch_size:
            try:
                return self._compiled(batch)
            except Exception as exc:  # noqa: BLE001 - no compiler toolchain, or an Inductor failure: run eagerly
                logger.warning(
                    "torch.compile of the embedder failed (%s); full batches run eagerly.", type(exc).__name__
                )
                self._compiled = None
        return self._runner(batch)

    def _optimise(self, model: nn.Module):
        """Freeze a TorchScript trace for oneDNN; refuse it unless it reproduces the eager model on the known input."""
        example = torch.from_numpy(np.concatenate([known_input(), known_input()[:, ::-1]]).copy())
        example = example.permute(0, 3, 1, 2).float().sub_(127.5).div_(128.0)
        example = example.to(dtype=self._dtype).contiguous(memory_format=torch.channels_last)
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # TorchScript's deprecation notice; the trace is checked below
            runner = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(model, example).eval()))
            eager, traced = model(example).float(), runner(example).float()
        agreement = float(torch.nn.functional.cosine_similarity(eager, traced).min())
        if agreement < 0.9999:
            raise RuntimeError(f"Optimised embedder disagrees with the eager model (cosine {agreement:.6f}).")
        return runner


@torch.inference_mode()
def _run_fp32(model: nn.Module, crops: np.ndarray, device: torch.device) -> np.ndarray:
    batch = torch.from_numpy(np.ascontiguousarray(crops)).to(device)
    batch = batch.permute(0, 3, 1, 2).float().sub_(127.5).div_(128.0).contiguous(memory_format=torch.channels_last)
    return torch.nn.functional.normalize(model(batch).float(), p=2, dim=1).cpu().numpy()


def _verify_known_embedding(model: nn.Module, device: torch.device) -> None:
    """Refuse to run when the weights do not reproduce the pinned embedding of ``known_input()``."""
    expected = np.asarray(KNOWN_EMBEDDING_PREFIX, dtype=np.float32)
    # CUDA convolutions default to TF32 (10-bit mantissa), which alone could exceed the tolerance: check in true fp32.
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        actual = _run_fp32(model, known_input(), device)[0, : len(expected)]
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved
    if len(expected) == 0 or not np.allclose(actual, expected, atol=KNOWN_EMBEDDING_TOLERANCE, rtol=0):
        raise WeightsError(
            "The embedder's weights do not reproduce the known CASIA-WebFace embedding, so the weights file is not the "
            "converted graph_final.pb. Run `python manage.py convert_facenet_weights`, or set "
            "RECOGNITION['WEIGHTS_KIND'] = 'custom' when deliberately using other weights."
        )
