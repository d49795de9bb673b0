"""Verification measurements on a labelled face folder: the figures behind the threshold and preprocessing choices.

Used by the benchmark (``python -m benchmarks.engine``) and by the tests, so the test asserts the same computation the
published figures come from. No biometric data is logged; only aggregate rates leave this module.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np
from PIL import Image

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


@dataclass(frozen=True)
class LabelledImage:
    path: Path
    identity: str


def labelled_images(faces_dir: Path) -> list[LabelledImage]:
    """The identity folders of the dev set (``dev/<Identity>/*.jpg``), skipping ``_multi`` and ``_none``."""
    dev = faces_dir / "dev"
    items = []
    for folder in sorted(p for p in dev.iterdir() if p.is_dir() and not p.name.startswith("_")):
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in IMAGE_SUFFIXES:
                items.append(LabelledImage(path=path, identity=folder.name))
    return items


def all_pairs(identities: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Every unordered pair of images: index array (m, 2) and a boolean "same identity" array (m,)."""
    pairs = np.array(list(combinations(range(len(identities)), 2)), dtype=np.int64)
    same = np.array([identities[a] == identities[b] for a, b in pairs], dtype=bool)
    return pairs, same


def central_face_index(boxes: Sequence[Sequence[float]], *, width: int, height: int) -> int | None:
    """The face nearest the image centre: LFW's labelled person is the centred one, others are bystanders."""
    if not boxes:
        return None
    centre = np.array([width / 2, height / 2])
    distances = [np.linalg.norm(np.array([(b[0] + b[2]) / 2, (b[1] + b[3]) / 2]) - centre) for b in boxes]
    return int(np.argmin(distances))


def load_rgb(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGB")


def wilson_interval(successes: int, trials: int, *, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval for a binomial proportion (well behaved at 0 and small n, unlike the normal one)."""
    if trials == 0:
        return (0.0, 1.0)
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Rates:
    threshold: float
    false_matches: int
    impostor_pairs: int
    false_non_matches: int
    genuine_pairs: int

    @property
    def fmr(self) -> float:
        return self.false_matches / self.impostor_pairs if self.impostor_pairs else 0.0

    @property
    def fnmr(self) -> float:
        return self.false_non_matches / self.genuine_pairs if self.genuine_pairs else 0.0

    @property
    def fmr_ci(self) -> tuple[float, float]:
        return wilson_interval(self.false_matches, self.impostor_pairs)

    @property
    def fnmr_ci(self) -> tuple[float, float]:
        return wilson_interval(self.false_non_matches, self.genuine_pairs)


def rates_at(scores: np.ndarray, same: np.ndarray, *, threshold: float) -> Rates:
    """FMR/FNMR when "match" means score >= threshold (the product's alert rule)."""
    match = scores >= threshold
    return Rates(
        threshold=threshold,
        false_matches=int(np.sum(match & ~same)),
        impostor_pairs=int(np.sum(~same)),
        false_non_matches=int(np.sum(~match & same)),
        genuine_pairs=int(np.sum(same)),
    )


def best_threshold_accuracy(scores: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """Threshold maximising accuracy on these pairs (midpoint between neighbouring scores) and that accuracy."""
    order = np.sort(np.unique(scores))
    candidates = np.concatenate([[order[0] - 1e-6], (order[:-1] + order[1:]) / 2, [order[-1] + 1e-6]])
    best_t, best_acc = 0.0, -1.0
    for t in candidates:
        acc = float(np.mean((scores >= t) == same))
        if acc > best_acc:
            best_t, best_acc = float(t), acc
    return best_t, best_acc


def kfold_accuracy(scores: np.ndarray, same: np.ndarray, *, folds: int = 10, seed: int = 0) -> tuple[float, float]:
    """LFW-style k-fold accuracy: threshold chosen on k-1 folds, accuracy on the held-out fold; mean and std."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(scores))
    parts = np.array_split(order, folds)
    accs = []
    for i in range(folds):
        test = parts[i]
        train = np.concatenate([parts[j] for j in range(folds) if j != i])
        t, _ = best_threshold_accuracy(scores[train], same[train])
        accs.append(float(np.mean((scores[test] >= t) == same[test])))
    return float(np.mean(accs)), float(np.std(accs))


def separation(scores: np.ndarray, same: np.ndarray) -> float:
    """Decidability index d' between genuine and impostor score distributions (higher separates better)."""
    g, i = scores[same], scores[~same]
    return float((g.mean() - i.mean()) / math.sqrt((g.var() + i.var()) / 2))


def threshold_for_fmr(impostor_scores: np.ndarray, *, target_fmr: float) -> float:
    """Smallest threshold whose empirical FMR (score >= t) is at most ``target_fmr``; just above the highest impostor
    score when the sample is too small to resolve the target (n * target < 1)."""
    ordered = np.sort(impostor_scores)[::-1]
    allowed = int(math.floor(target_fmr * len(ordered)))
    return float(np.nextafter(np.float32(ordered[allowed]), np.float32(np.inf)))


def impostor_paths(faces_dir: Path) -> list[Path]:
    """``impostors/<Person>/<image>``: one image of each of 4,069 LFW people (none of them a dev identity)."""
    folder = faces_dir / "impostors"
    paths = []
    for person in sorted(p for p in folder.iterdir() if p.is_dir()):
        images = sorted(p for p in person.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if images:
            paths.append(images[0])
    return paths


def impostor_embeddings(engine, paths: Sequence[Path], *, chunk: int = 64) -> tuple[np.ndarray, np.ndarray, int]:
    """Template (flip-averaged) and live-probe embeddings of the central face of each image, as the product makes
    them; images where no face is found are left out. Returns ``(templates, probes, missing)``."""
    templates, probes, missing = [], [], 0
    for start in range(0, len(paths), chunk):
        images = [load_rgb(p) for p in paths[start : start + chunk]]
        detections = engine.detect(images)
        chosen_images, chosen_faces = [], []
        for image, faces in zip(images, detections):
            index = central_face_index([f.box for f in faces], width=image.width, height=image.height)
            if index is None:
                missing += 1
                continue
            chosen_images.append(image)
            chosen_faces.append([faces[index]])
        crops = engine.crops(chosen_images, chosen_faces)
        templates.append(engine.embed_crops(crops))
        probes.append(engine.embed_crops(crops, live=True))
    return np.concatenate(templates), np.concatenate(probes), missing


def impostor_scores(templates: np.ndarray, probes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of different people: template against template (n(n-1)/2 unordered pairs) and live probe against
    template (n(n-1) ordered pairs, what an alert compares)."""
    n = len(templates)
    upper = np.triu_indices(n, k=1)
    template_scores = (templates @ templates.T)[upper]
    cross = probes @ templates.T
    live_scores = cross[~np.eye(n, dtype=bool)]
    return template_scores.astype(np.float32), live_scores.astype(np.float32)


@dataclass(frozen=True)
class ImpostorThreshold:
    """The threshold rule applied to the impostor set, with the false-match rate it gives and its 95% interval."""

    pairs: int
    highest: float
    derived: dict
    threshold: float
    false_matches: int

    @property
    def fmr(self) -> float:
        return self.false_matches / self.pairs if self.pairs else 0.0

    @property
    def fmr_ci(self) -> tuple[float, float]:
        return wilson_interval(self.false_matches, self.pairs)


def impostor_threshold(scores: np.ndarray, *, threshold: float, target_fmr: float) -> ImpostorThreshold:
    """``thresholds.derive_threshold`` on these impostor scores, and the FMR of ``threshold`` on them."""
    from recognition.engine.thresholds import derive_threshold

    return ImpostorThreshold(
        pairs=len(scores),
        highest=float(scores.max()),
        derived=derive_threshold(scores, target_fmr=target_fmr),
        threshold=threshold,
        false_matches=int(np.sum(scores >= threshold)),
    )


def camera_frames(images, width: int = 640, height: int = 480) -> list:
    """Camera-sized frames: each group photo scaled to fit and centred on black (a frame with 3-7 faces)."""
    from PIL import Image

    frames = []
    for image in images:
        scale = min(width / image.width, height / image.height)
        resized = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.BILINEAR)
        frame = Image.new("RGB", (width, height))
        frame.paste(resized, ((width - resized.width) // 2, (height - resized.height) // 2))
        frames.append(frame)
    return frames
