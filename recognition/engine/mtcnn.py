"""MTCNN with every per-box step batched: facenet-pytorch's networks, weights and algorithm, minus its Python loops.

facenet-pytorch's ``detect_face`` cuts each candidate box out of the frame and resizes it in a Python loop (one
``interpolate`` call per box, hundreds per 640x480 frame and thousands per 1920x1080 one) and moves boxes to the CPU
between stages. On a GPU those loops, not the networks, set the frame rate. Here every candidate of every frame is
cropped and resized at once from a summed-area table of the frames, which gives *the same numbers* as the stock
``area`` resize (an area resize is a box average, and a box sum is four look-ups in a summed-area table; pixel values
are integers, so the sums are exact), and the boxes stay on the device until the last stage.

What is kept from facenet-pytorch, unchanged: P/R/O-Net and their weights (shipped in the package), the image pyramid,
candidate generation, box regression and squaring, the stage thresholds and every NMS (including the final "Min"
NMS), and the crop geometry (a box partly outside the frame is clipped to it, then stretched to the network's input,
as facenet-pytorch does). ``tests/recognition/engine/test_mtcnn.py`` checks boxes, probabilities and landmarks
against the stock implementation on the dev photos.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from facenet_pytorch.models.mtcnn import ONet, PNet, RNet
from facenet_pytorch.models.utils.detect_face import batched_nms_numpy, bbreg, generateBoundingBox, rerec
from torchvision.ops import batched_nms

# facenet-pytorch splits R/O-Net inputs into chunks of 512 boxes to bound GPU memory; a chunk of 24x24 or 48x48 crops
# is at most 14 MB, so larger chunks are as safe and cut launches on a GPU.
_CHUNK = {"cpu": 512, "cuda": 4096}

# Summed-area tables are exact in int32 while 255 * H * W stays below 2**31 (about 8.4 megapixels); larger frames use
# int64.
_INT32_SAT_MAX_PIXELS = (2**31 - 1) // 255


@dataclass(frozen=True, slots=True)
class FrameDetections:
    """One frame's faces, best first: boxes (k, 4) x1 y1 x2 y2, probabilities (k,), landmarks (k, 5, 2); float32."""

    boxes: np.ndarray
    probabilities: np.ndarray
    landmarks: np.ndarray


class BatchedMTCNN:
    """Detect every face in a batch of equal-sized frames (uint8 tensors, N x H x W x 3, RGB)."""

    def __init__(
        self,
        *,
        device: torch.device,
        min_face_size: int,
        thresholds: tuple[float, float, float] | list[float],
        factor: float = 0.709,
    ) -> None:
        if len(thresholds) != 3:
            raise ValueError("MTCNN needs three stage thresholds.")
        self.device = device
        self.min_face_size = int(min_face_size)
        self.thresholds = tuple(float(t) for t in thresholds)
        self.factor = float(factor)
        # Channels-last weights make every convolution and max-pool run in NHWC (oneDNN on CPU, cuDNN's fast path on
        # CUDA); on the 2-core reference CPU this alone took a 640x480 frame from 0.162 to 0.102 s in stock MTCNN.
        self.pnet, self.rnet, self.onet = (
            net().eval().to(device=device, memory_format=torch.channels_last) for net in (PNet, RNet, ONet)
        )
        self._chunk = _CHUNK.get(device.type, 512)

    def scales(self, height: int, width: int) -> list[float]:
        """The image pyramid's scales (facenet-pytorch's: first 12 / min face size, then times ``factor``)."""
        scale, smallest, scales = 12.0 / self.min_face_size, min(height, width) * 12.0 / self.min_face_size, []
        while smallest >= 12:
            scales.append(scale)
            scale *= self.factor
            smallest *= self.factor
        return scales

    @torch.inference_mode()
    def detect(self, frames: torch.Tensor) -> list[FrameDetections]:
        """Faces of each frame in ``frames`` (uint8, N x H x W x 3, any device), best first within a frame."""
        if frames.dim() != 4 or frames.shape[-1] != 3 or frames.dtype != torch.uint8:
            raise ValueError("frames must be a uint8 tensor of shape (N, H, W, 3).")
        count, height, width = (int(v) for v in frames.shape[:3])
        if not self.scales(height, width):
            # A frame whose shorter side is below the minimum face size has no pyramid level, so it cannot contain a
            # face the detector looks for: an empty result, not ``torch.cat`` of nothing (which raised, a 500).
            empty = np.zeros((0, 4), dtype=np.float32)
            return [
                FrameDetections(
                    boxes=empty,
                    probabilities=np.zeros(0, dtype=np.float32),
                    landmarks=np.zeros((0, 5, 2), dtype=np.float32),
                )
                for _ in range(count)
            ]
        table = _summed_area_table(frames.to(self.device, non_blocking=True))
        boxes, frame_index = self._propose(table, height, width)
        if len(boxes):
            boxes, frame_index = self._refine(table, boxes, frame_index, height, width)
        points = torch.zeros((0, 5, 2), device=self.device)
        if len(boxes):
            boxes, frame_index, points = self._output(table, boxes, frame_index, height, width)
        return _split(boxes, points, frame_index, count)

    # Stage 1 (P-Net over the pyramid), exactly as facenet-pytorch's ``detect_face``.
    def _propose(self, table: torch.Tensor, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
        found, found_index = [], []
        for scale in self.scales(height, width):
            level = _area_resize_frames(table, int(height * scale + 1), int(width * scale + 1))
            level = (level - 127.5) * 0.0078125
            regression, probabilities = self.pnet(level)
            boxes, frame_index = generateBoundingBox(regression, probabilities[:, 1], scale, self.thresholds[0])
            keep = batched_nms(boxes[:, :4], boxes[:, 4], frame_index, 0.5)
            found.append(boxes[keep])
            found_index.append(frame_index[keep])
        boxes, frame_index = torch.cat(found), torch.cat(found_index)
        keep = batched_nms(boxes[:, :4], boxes[:, 4], frame_index, 0.7)
        boxes, frame_index = boxes[keep], frame_index[keep]
        width_, height_ = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
        boxes = torch.stack(
            [
                boxes[:, 0] + boxes[:, 5] * width_,
                boxes[:, 1] + boxes[:, 6] * height_,
                boxes[:, 2] + boxes[:, 7] * width_,
                boxes[:, 3] + boxes[:, 8] * height_,
                boxes[:, 4],
            ],
            dim=1,
        )
        return rerec(boxes), frame_index

    # Stage 2 (R-Net on 24x24 crops of every candidate).
    def _refine(self, table, boxes, frame_index, height, width):
        boxes, frame_index, crops = self._crops(table, boxes, frame_index, height, width, 24)
        regression, probabilities = self._run(self.rnet, crops)
        score = probabilities[:, 1]
        passed = score > self.thresholds[1]
        boxes = torch.cat((boxes[passed, :4], score[passed].unsqueeze(1)), dim=1)
        frame_index, regression = frame_index[passed], regression[passed]
        keep = batched_nms(boxes[:, :4], boxes[:, 4], frame_index, 0.7)
        boxes, frame_index, regression = boxes[keep], frame_index[keep], regression[keep]
        return rerec(bbreg(boxes, regression)), frame_index

    # Stage 3 (O-Net on 48x48 crops): final boxes, probabilities and landmarks, then the "Min" NMS.
    def _output(self, table, boxes, frame_index, height, width):
        boxes, frame_index, crops = self._crops(table, boxes, frame_index, height, width, 48)
        regression, landmarks, probabilities = self._run(self.onet, crops)
        score = probabilities[:, 1]
        passed = score > self.thresholds[2]
        landmarks = landmarks[passed]
        boxes = torch.cat((boxes[passed, :4], score[passed].unsqueeze(1)), dim=1)
        frame_index, regression = frame_index[passed], regression[passed]
        box_width = (boxes[:, 2] - boxes[:, 0] + 1).unsqueeze(1)
        box_height = (boxes[:, 3] - boxes[:, 1] + 1).unsqueeze(1)
        points = torch.stack(
            (
                box_width * landmarks[:, :5] + boxes[:, :1] - 1,
                box_height * landmarks[:, 5:10] + boxes[:, 1:2] - 1,
            ),
            dim=2,
        )
        boxes = bbreg(boxes, regression)
        keep = batched_nms_numpy(boxes[:, :4], boxes[:, 4], frame_index, 0.7, "Min")
        return boxes[keep], frame_index[keep], points[keep]

    def _run(self, net, crops: torch.Tensor) -> tuple[torch.Tensor, ...]:
        inputs = ((crops - 127.5) * 0.0078125).contiguous(memory_format=torch.channels_last)
        outputs = [net(inputs[start : start + self._chunk]) for start in range(0, len(inputs), self._chunk)]
        return tuple(torch.cat(parts) for parts in zip(*outputs))

    def _crops(self, table, boxes, frame_index, height, width, size):
        """Area-resized crops (float, K x 3 x size x size) of each box, clipped to the frame as facenet-pytorch does.

        A box whose clipped region is empty is dropped (facenet-pytorch skips its crop but keeps the box, which
        misaligns every later box with its network output).
        """
        edges = boxes[:, :4].trunc().long()  # facenet-pytorch's ``pad``: truncate, then clip the top-left to 1 ...
        left = edges[:, 0].clamp(min=1) - 1
        top = edges[:, 1].clamp(min=1) - 1
        right = edges[:, 2].clamp(max=width)  # ... and the bottom-right to the frame (exclusive ends here)
        bottom = edges[:, 3].clamp(max=height)
        valid = (right > left) & (bottom > top)
        if not bool(valid.all()):
            boxes, frame_index = boxes[valid], frame_index[valid]
            left, top, right, bottom = left[valid], top[valid], right[valid], bottom[valid]
        return boxes, frame_index, _area_resize(table, frame_index, top, bottom, left, right, size)


def _summed_area_table(frames: torch.Tensor) -> torch.Tensor:
    """Summed-area table of uint8 frames (N, H, W, C): integer (N, H + 1, W + 1, C), first row and column zero."""
    count, height, width, channels = frames.shape
    dtype = torch.int32 if height * width <= _INT32_SAT_MAX_PIXELS else torch.int64
    table = torch.zeros((count, height + 1, width + 1, channels), dtype=dtype, device=frames.device)
    table[:, 1:, 1:] = frames.to(dtype).cumsum(1, dtype=dtype).cumsum(2, dtype=dtype)
    return table


def _cells(start: torch.Tensor, end: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """First and last (exclusive) input index of each of ``size`` area-resize cells over ``[start, end)``.

    Area resizing is adaptive average pooling: output cell ``i`` of an extent ``n`` averages inputs
    ``floor(i * n / size)`` to ``ceil((i + 1) * n / size)``.
    """
    steps = torch.arange(size, device=start.device)
    extent = (end - start).unsqueeze(-1)
    first = start.unsqueeze(-1) + (steps * extent) // size
    last = start.unsqueeze(-1) + ((steps + 1) * extent + size - 1) // size
    return first, last


def _area_resize_frames(table: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """``F.interpolate(frames, (height, width), mode="area")`` from their summed-area table: float NCHW, channels-last."""
    device = table.device
    full_height, full_width = table.shape[1] - 1, table.shape[2] - 1
    zero = torch.zeros((), dtype=torch.long, device=device)
    row_first, row_last = _cells(zero, zero + full_height, height)
    col_first, col_last = _cells(zero, zero + full_width, width)
    upper, lower = table.index_select(1, row_first), table.index_select(1, row_last)
    total = (
        lower.index_select(2, col_last)
        - upper.index_select(2, col_last)
        - lower.index_select(2, col_first)
        + upper.index_select(2, col_first)
    )
    heights = (row_last - row_first).view(1, -1, 1, 1).float()
    widths = (col_last - col_first).view(1, 1, -1, 1).float()
    return (total.float() / heights / widths).permute(0, 3, 1, 2)


def _area_resize(table, frame_index, top, bottom, left, right, size) -> torch.Tensor:
    """``F.interpolate(region, (size, size), mode="area")`` for many regions at once: float (K, C, size, size)."""
    row_first, row_last = _cells(top, bottom, size)
    col_first, col_last = _cells(left, right, size)
    frames, rows, cols, channels = table.shape
    pixels = table.view(-1, channels)  # one row of C channel sums per table position
    base = (frame_index * (rows * cols)).view(-1, 1, 1)

    def at(row, col):
        index = base + (row * cols).unsqueeze(2) + col.unsqueeze(1)
        return pixels.index_select(0, index.view(-1)).view(len(row), size, size, channels)

    total = at(row_last, col_last) - at(row_first, col_last) - at(row_last, col_first) + at(row_first, col_first)
    heights = (row_last - row_first).view(-1, size, 1, 1).float()
    widths = (col_last - col_first).view(-1, 1, size, 1).float()
    return (total.float() / heights / widths).permute(0, 3, 1, 2)


def _split(boxes, points, frame_index, count) -> list[FrameDetections]:
    boxes, points, frame_index = boxes.float().cpu().numpy(), points.float().cpu().numpy(), frame_index.cpu().numpy()
    result = []
    for frame in range(count):
        mine = frame_index == frame
        result.append(
            FrameDetections(
                boxes=boxes[mine, :4].copy(), probabilities=boxes[mine, 4].copy(), landmarks=points[mine].copy()
            )
        )
    return result
