"""The SFace embedder: OpenCV Zoo's SFace (2021dec, int8 block-quantised) as a torch module, batched.

The graph is dequantised and converted once at start-up (``zoo.sface_module``, about 3 s); from there it gets the
same preparation as the FaceNet embedder (``embedder.py``): channels-last, fp16 on CUDA, and on CPU a frozen
TorchScript trace (``torch.jit.freeze`` folds the batch norms into the convolutions and pre-packs the weights for
oneDNN), refused unless it reproduces the eager fp32 module on a fixed input.

Two precisions on a CPU: templates (enrolment, subject-access search) in fp32, live probes from camera frames in bf16
(``live_precision``) where the CPU has AMX bf16 tiles (``engine.cpu_has_amx_bf16``): 3 ms a face against 6-8 ms in
fp32 at the 3-7 faces of a frame on a 2-core Xeon with AMX (oneDNN's bf16 kernels; BENCHMARKS.md, "Face engine
frame path"); without AMX (the AMD EPYC of the earlier runs) bf16 measured slower, and live probes stay fp32. A bf16 probe agrees with the fp32 one to a
cosine of 0.999 on the dev faces; the live-probe-against-template rates in BENCHMARKS.md ("Backends side by side") are
measured with these bf16 probes, at the threshold derived from the fp32 templates.

Input: faces aligned on five landmarks to 112x112 (``alignment.py``), uint8, channels in **RGB** order, the order
OpenCV's ``FaceRecognizerSF`` feeds the network (it swaps its BGR images to RGB). Measured on the dev faces: feeding
BGR instead raises the highest impostor score from 0.38 to 0.44 and lowers d'. The graph standardises its input
itself ((x - 127.5) / 128), so raw 0..255 values go in. Output: 128-d, L2-normalised here.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import torch

from recognition.engine.alignment import ALIGNED_SIZE

logger = logging.getLogger(__name__)

SFACE_EMBEDDING_SIZE = 128


def known_input() -> np.ndarray:
    """A deterministic 112x112 RGB uint8 pattern (no RNG), used to check the optimised module against the eager one."""
    y, x = np.mgrid[0:ALIGNED_SIZE, 0:ALIGNED_SIZE]
    channels = [(x * 7 + y * 13) % 256, (x * x + 3 * y) % 256, (x * y // 7 + 50) % 256]
    return np.stack(channels, axis=-1).astype(np.uint8)[None]


class SFaceEmbedder:
    """SFace producing L2-normalised 128-d float32 embeddings from aligned uint8 RGB faces (n, 112, 112, 3)."""

    embedding_size = SFACE_EMBEDDING_SIZE
    input_size = ALIGNED_SIZE

    def __init__(
        self,
        *,
        model_bytes: bytes,
        device: torch.device,
        precision: str,
        batch_size: int,
        flip_average: bool,
        channel_order: str = "RGB",
        live_precision: str | None = None,
    ) -> None:
        from recognition.engine.zoo import sface_module

        live_precision = live_precision or precision
        if precision not in ("fp32", "bf16", "fp16") or live_precision not in ("fp32", "bf16", "fp16"):
            raise ValueError(f"Unknown precision {precision!r} / {live_precision!r}.")
        self.device = device
        self.precision = precision
        self.live_precision = live_precision
        self.batch_size = batch_size
        self.flip_average = flip_average
        self.channel_order = channel_order
        eager = sface_module(model_bytes).to(device=device, memory_format=torch.channels_last)
        self._reference = eager  # fp32 eager module: the arithmetic the optimised ones are checked against
        self._runners = {}
        for name in dict.fromkeys((precision, live_precision)):
            dtype = _DTYPES[name]
            model = eager if name == "fp32" else _cast_copy(eager, dtype)
            self._runners[name] = (self._optimise(model, dtype, name) if device.type == "cpu" else model, dtype)
        self.model = self._runners[precision][0]

    def embed(self, crops: np.ndarray, *, flip_average: bool | None = None, live: bool = False) -> np.ndarray:
        """Embed aligned uint8 faces (n, 112, 112, 3) in batches; returns float32 (n, 128), unit norm.

        ``live=True``: probes from camera frames, in ``live_precision``; otherwise templates, in ``precision``."""
        if len(crops) == 0:
            return np.zeros((0, SFACE_EMBEDDING_SIZE), dtype=np.float32)
        flip = self.flip_average if flip_average is None else flip_average
        runner, dtype = self._runners[self.live_precision if live else self.precision]
        out = np.empty((len(crops), SFACE_EMBEDDING_SIZE), dtype=np.float32)
        for start in range(0, len(crops), self.batch_size):
            out[start : start + self.batch_size] = self._embed_batch(
                runner, dtype, crops[start : start + self.batch_size], flip
            )
        return out

    def _to_input(self, crops: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
        if self.channel_order == "BGR":
            crops = crops[..., ::-1]
        batch = torch.from_numpy(np.ascontiguousarray(crops)).to(self.device)
        return batch.permute(0, 3, 1, 2).to(dtype=dtype).contiguous(memory_format=torch.channels_last)

    @torch.inference_mode()
    def _embed_batch(self, runner, dtype: torch.dtype, crops: np.ndarray, flip_average: bool) -> np.ndarray:
        batch = self._to_input(crops, dtype)
        embeddings = runner(batch).float()
        if flip_average:
            embeddings = embeddings + runner(batch.flip(3).contiguous(memory_format=torch.channels_last)).float()
        return torch.nn.functional.normalize(embeddings, p=2, dim=1).cpu().numpy()

    def _optimise(self, model, dtype: torch.dtype, precision: str):
        example = self._to_input(np.concatenate([known_input(), known_input()[:, :, ::-1]]), dtype)
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # TorchScript's deprecation notice; the trace is checked below
            runner = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(model, example).eval()))
            reference = self._reference(example.float()).float()
            traced = runner(example).float()
        agreement = float(torch.nn.functional.cosine_similarity(reference, traced).min())
        # bf16 rounds every activation (0.998 on this synthetic input, 0.999+ on real faces): 0.99 bounds that, while
        # any wrong weight or graph gives far less.
        if agreement < (0.9999 if precision == "fp32" else 0.99):
            raise RuntimeError(f"Optimised SFace embedder disagrees with the fp32 module (cosine {agreement:.6f}).")
        return runner


_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def _cast_copy(module, dtype):
    import copy

    return copy.deepcopy(module).to(dtype=dtype)
