"""``python -m benchmarks.engine``: the engine's figures, printed and written to BENCHMARKS.md (its section).

Benchmarks are separate from tests (house style): they print figures and do not assert timings. Every figure is
measured on the production path (``FaceEngine``: MTCNN -> ``crop_faces`` -> embedder at the configured precision),
except where a row says it measures an alternative (the preprocessing grid, the stock model, OpenCV DNN).

Works with ``DJANGO_SETTINGS_MODULE`` set (reads ``settings.RECOGNITION``) or standalone with the engine's defaults.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import re
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from recognition.engine.evaluation import camera_frames


def _setup_django() -> None:
    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        import django

        django.setup()


def _machine() -> str:
    import torch

    try:
        import cv2

        opencv = cv2.__version__
    except ImportError:
        opencv = "not installed"

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    flags = ""
    try:
        text = Path("/proc/cpuinfo").read_text()
        flags = ", ".join(f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f" {f}" in text)
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0))
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none (no GPU on this machine)"
    return (
        f"{cpu} ({flags}), {cores} cores available, {mem:.0f} GiB RAM; GPU: {gpu}; Python {platform.python_version()}, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), OpenCV {opencv}, numpy {np.__version__}"
    )


class Report:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.targets: list[tuple[str, str, bool]] = []  # (target, measured, met)

    def target(self, name: str, measured: str, met: bool) -> None:
        self.targets.append((name, measured, met))

    def add(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)


def _dev_faces(engine, faces_dir: Path):
    """Production crops of the central face of each labelled dev image, plus the group-photo faces."""
    from recognition.engine.evaluation import (
        central_face_index,
        labelled_images,
        load_rgb,
    )

    items = labelled_images(faces_dir)
    images = [load_rgb(item.path) for item in items]
    detections = engine.detect(images)
    chosen, missing = [], 0
    for image, faces in zip(images, detections):
        index = central_face_index([f.box for f in faces], width=image.width, height=image.height)
        chosen.append([faces[index]] if index is not None else [])
        missing += index is None
    multi = sorted((faces_dir / "dev" / "_multi").glob("*.jpg"))
    multi_images = [load_rgb(p) for p in multi]
    multi_faces = engine.detect(multi_images)
    return items, images, chosen, missing, multi_images, multi_faces


def _scores(vectors: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    return np.sum(vectors[pairs[:, 0]] * vectors[pairs[:, 1]], axis=1)


def _box_widths(faces_per_image) -> list[tuple[float, float]]:
    return [(f.box[0], f.box[2]) for faces in faces_per_image for f in faces]


def _enrolment_minimum() -> str:
    try:
        from django.conf import settings

        return str(settings.OVERSIGHT_ENROLMENT_MIN_FACE_PX)
    except Exception:  # noqa: BLE001 - standalone run without the project settings
        return "60 (the project default)"


def _cross_scores(templates: np.ndarray, probes: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    return np.sum(templates[pairs[:, 0]] * probes[pairs[:, 1]], axis=1)


def _impostor_extra(lfw: np.ndarray, multi: np.ndarray, multi_groups: list[int]) -> np.ndarray:
    """Impostor scores between group-photo faces and LFW faces, and between faces of the same group photo."""
    cross = (multi @ lfw.T).ravel()
    within = []
    for g in set(multi_groups):
        idx = [i for i, v in enumerate(multi_groups) if v == g]
        for a in range(len(idx)):
            for b in range(a + 1, len(idx)):
                within.append(float(multi[idx[a]] @ multi[idx[b]]))
    return np.concatenate([cross, np.array(within, dtype=np.float32)])


def section_verification(
    report: Report, engine, faces_dir: Path, *, title: str = "Verification on the dev faces (production path)"
) -> dict:
    from recognition.engine.evaluation import (
        all_pairs,
        best_threshold_accuracy,
        kfold_accuracy,
        rates_at,
        wilson_interval,
    )
    from recognition.engine.thresholds import TARGET_FMR, derive_threshold

    items, images, chosen, missing, multi_images, multi_faces = _dev_faces(engine, faces_dir)
    if missing:
        report.add(f"WARNING: no face detected in {missing} labelled image(s); they are counted as non-matches.")
    present = [i for i, faces in enumerate(chosen) if faces]
    vectors = np.zeros((len(items), engine.embedding_size), dtype=np.float32)
    vectors[present] = engine.embed_crops(engine.crops([images[i] for i in present], [chosen[i] for i in present]))
    pairs, same = all_pairs([item.identity for item in items])
    scores = _scores(vectors, pairs)
    multi_vectors = engine.embed_crops(engine.crops(multi_images, multi_faces))
    groups = [g for g, faces in enumerate(multi_faces) for _ in faces]
    # Live matching compares a camera-frame probe (embedded without flip averaging) with enrolled templates.
    live_vectors = np.zeros_like(vectors)
    live_vectors[present] = engine.embed_crops(
        engine.crops([images[i] for i in present], [chosen[i] for i in present]), live=True
    )
    live_scores = np.concatenate(
        [_cross_scores(vectors, live_vectors, pairs), _cross_scores(live_vectors, vectors, pairs)]
    )
    live_same = np.concatenate([same, same])
    # The threshold is derived from the comparisons the product makes: template against template (re-enrolment) and
    # template against a live probe, here the LFW faces both ways and every group-photo face as a live probe against
    # every LFW template. Two group faces against each other compare two faces under the enrolment minimum
    # (OVERSIGHT_ENROLMENT_MIN_FACE_PX), which never happens in the product; they are reported, not used.
    group_probes = engine.embed_crops(engine.crops(multi_images, multi_faces), live=True)
    within_group = _impostor_extra(np.zeros((0, engine.embedding_size), dtype=np.float32), multi_vectors, groups)
    impostor_all = np.concatenate([scores[~same], (group_probes @ vectors[present].T).ravel()])
    threshold = engine.match_threshold
    acc10, acc10_sd = kfold_accuracy(scores, same)
    best_t, best_acc = best_threshold_accuracy(scores, same)
    rates = rates_at(scores, same, threshold=threshold)
    fm_all = int(np.sum(impostor_all >= threshold))
    fm_ci = wilson_interval(fm_all, len(impostor_all))
    derived = derive_threshold(impostor_all, target_fmr=TARGET_FMR)
    report.add(f"## {title}")
    report.add("")
    report.add(
        f"- Images: {len(items)} labelled LFW images of {len({i.identity for i in items})} identities; "
        f"pairs: {int(same.sum())} genuine, {int((~same).sum())} impostor (all pairs, templates both sides); "
        f"plus {len(impostor_all) - int((~same).sum())} impostor pairs of the {len(multi_vectors)} group-photo "
        f"faces as live probes against the LFW templates (total impostor pairs {len(impostor_all)})."
    )
    report.add(
        f"- 10-fold best-threshold accuracy (model-quality figure): **{acc10:.2%}** (fold sd {acc10_sd:.2%}); "
        f"best single threshold on all pairs {best_t:.3f} gives {best_acc:.2%}."
    )
    report.add(f"- Product threshold **{threshold:.2f}** (target FMR {TARGET_FMR:g} per comparison):")
    report.add(
        f"  - FMR (LFW impostor pairs): {rates.false_matches}/{rates.impostor_pairs} = {rates.fmr:.3%} "
        f"(95% Wilson {rates.fmr_ci[0]:.3%}-{rates.fmr_ci[1]:.3%})"
    )
    report.add(
        f"  - FMR (all impostor pairs): {fm_all}/{len(impostor_all)} = {fm_all / len(impostor_all):.3%} "
        f"(95% Wilson {fm_ci[0]:.3%}-{fm_ci[1]:.3%})"
    )
    report.add(
        f"  - FNMR: {rates.false_non_matches}/{rates.genuine_pairs} = {rates.fnmr:.1%} "
        f"(95% Wilson {rates.fnmr_ci[0]:.1%}-{rates.fnmr_ci[1]:.1%})"
    )
    report.add(
        f"- Threshold derivation re-run now: impostor mean {impostor_all.mean():.3f}, sd "
        f"{impostor_all.std(ddof=1):.3f}, highest {impostor_all.max():.3f}; normal-tail estimate for FMR "
        f"{TARGET_FMR:g} = {derived['parametric']:.3f}; empirical bound {derived['empirical']:.3f}; "
        f"rounded up: **{derived['threshold']:.2f}**, the lowest threshold the target allows (constant in code: "
        f"{threshold:.2f}{', at or above it' if threshold >= derived['threshold'] else ', BELOW IT'})."
    )
    live_acc, _ = kfold_accuracy(live_scores, live_same)
    live_rates = rates_at(live_scores, live_same, threshold=threshold)
    report.add(
        f"- Live matching (template with flip averaging vs camera probe without; both orders of every pair): "
        f"10-fold accuracy {live_acc:.2%}; at {threshold:.2f}: FMR {live_rates.false_matches}/"
        f"{live_rates.impostor_pairs} = {live_rates.fmr:.3%} (95% Wilson {live_rates.fmr_ci[0]:.3%}-"
        f"{live_rates.fmr_ci[1]:.3%}), FNMR {live_rates.false_non_matches}/{live_rates.genuine_pairs} = "
        f"{live_rates.fnmr:.1%} (95% Wilson {live_rates.fnmr_ci[0]:.1%}-{live_rates.fnmr_ci[1]:.1%}); highest "
        f"impostor {live_scores[~live_same].max():.3f}."
    )
    report.add(
        f"- Not in the derivation: the {len(within_group)} pairs of different people within one group photo "
        f"(both faces {min(b - a for a, b in _box_widths(multi_faces)):.0f}-"
        f"{max(b - a for a, b in _box_widths(multi_faces)):.0f} px wide, as templates): highest "
        f"{within_group.max():.3f}. Small faces raise impostor scores (see 'Recognition by face size'); the "
        f"product never compares two of them, because enrolment refuses faces under "
        f"{_enrolment_minimum()} px."
    )
    report.add(
        "- The dev set is for choosing settings; it is far too small to show a per-comparison FMR of 1e-4 "
        "directly, and no held-out LFW pairs are available on this machine, so the issue's held-out target "
        "(>= 99.0%) is not measured here."
    )
    report.add("")
    return {
        "items": items,
        "images": images,
        "chosen": chosen,
        "multi_images": multi_images,
        "multi_faces": multi_faces,
        "pairs": pairs,
        "same": same,
    }


def section_choice(report: Report, engine, data: dict) -> None:
    """The grid that chose margin, flip averaging and precision (each cell a full re-embedding of the dev faces)."""
    from recognition.engine.embedder import Embedder
    from recognition.engine.evaluation import kfold_accuracy, separation
    from recognition.engine.preprocessing import crop_faces
    from recognition.engine.weights import load_state_dict

    state = load_state_dict(engine.config.weights_path)
    present = [i for i, faces in enumerate(data["chosen"]) if faces]
    pairs, same = data["pairs"], data["same"]
    keep = np.isin(pairs[:, 0], present) & np.isin(pairs[:, 1], present)
    pairs, same = pairs[keep], same[keep]
    report.add("## Preprocessing and precision choice (dev pairs, all cells on the same detections)")
    report.add("")
    report.add(
        "| precision | margin | flip avg | 10-fold acc | d' | highest impostor | lowest genuine | FNMR at product threshold |"
    )
    report.add("| --- | --- | --- | --- | --- | --- | --- | --- |")
    fp32_ref, agree = None, float("nan")
    for precision in ("fp32", "bf16"):
        embedder = Embedder(
            state_dict=state,
            device=engine.device,
            precision=precision,
            batch_size=32,
            flip_average=False,
            verify_known_embedding=False,
        )
        for margin in (0, 16, 24, 28, 32, 44):
            crops = np.zeros((len(data["images"]), 160, 160, 3), dtype=np.uint8)
            for i in present:
                crops[i] = crop_faces(data["images"][i], [data["chosen"][i][0].box], margin=margin)[0]
            for flip in (False, True):
                embedder.flip_average = flip
                vectors = embedder.embed(crops)
                if precision == "fp32" and margin == engine.margin and not flip:
                    fp32_ref = vectors
                if precision == "bf16" and margin == engine.margin and not flip and fp32_ref is not None:
                    agree = float(np.min(np.sum(fp32_ref[present] * vectors[present], axis=1)))
                scores = _scores(vectors, pairs)
                acc, _ = kfold_accuracy(scores, same)
                fnmr = float(np.mean(scores[same] < engine.match_threshold))
                report.add(
                    f"| {precision} | {margin} | {'yes' if flip else 'no'} | {acc:.2%} | "
                    f"{separation(scores, same):.3f} | {scores[~same].max():.3f} | {scores[same].min():.3f} | "
                    f"{fnmr:.1%} |"
                )
        del embedder
    report.add("")
    report.add(
        f"- Lowest cosine between bf16 and fp32 embeddings of the same production crops (margin "
        f"{engine.margin}): {agree:.5f}."
    )
    report.add(
        f"- Production: margin {engine.margin}, flip averaging {'on' if engine.flip_average else 'off'} for "
        f"templates and {'on' if engine.flip_average_live else 'off'} for live-frame probes, precision "
        f"{engine.precision} (recognition/engine/preprocessing.py states why)."
    )
    report.add("")


def _rate(fn, crops: np.ndarray, *, batch: int, seconds: float) -> float:
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for offset in range(0, len(crops) - batch + 1, batch):
            fn(crops[offset : offset + batch])
            done += batch
    return done / (time.perf_counter() - start)


def _best_of_rounds(contenders: dict, crops: np.ndarray, *, seconds: float, rounds: int = 4) -> dict:
    """Interleave the contenders in short rounds and keep each one's best round.

    The reference machine is shared (other processes come and go); interleaving exposes every contender to the same
    background load, and the best round is the least disturbed estimate of what each can do.
    """
    for fn, batch in contenders.values():
        fn(crops[:batch])  # warm-up: allocator, oneDNN primitives
    best = {name: 0.0 for name in contenders}
    for _ in range(rounds):
        for name, (fn, batch) in contenders.items():
            best[name] = max(best[name], _rate(fn, crops, batch=batch, seconds=seconds / rounds))
    return best


def section_throughput(report: Report, engine, data: dict, *, seconds: float) -> None:
    import cv2
    import torch
    from facenet_pytorch import InceptionResnetV1

    from recognition.engine.weights import graph_path, load_state_dict

    crops = np.concatenate(
        [
            engine.crops(
                [data["images"][i] for i, f in enumerate(data["chosen"]) if f], [f for f in data["chosen"] if f]
            ),
            engine.crops(data["multi_images"], data["multi_faces"]),
        ]
    )
    crops = np.concatenate([crops] * max(1, -(-64 // len(crops))))[:64]
    net = cv2.dnn.readNetFromTensorflow(str(graph_path()))

    def opencv(batch: np.ndarray) -> None:
        for crop in batch:  # the frozen graph only accepts batch 1
            net.setInput(np.ascontiguousarray(((crop[None].astype(np.float32) - 127.5) / 128).transpose(0, 3, 1, 2)))
            net.forward()

    stock = InceptionResnetV1(pretrained=None, classify=False).eval()
    stock.load_state_dict(load_state_dict(engine.config.weights_path))

    def stock_fp32(batch: np.ndarray) -> None:
        with torch.no_grad():
            stock((torch.from_numpy(batch).permute(0, 3, 1, 2).float() - 127.5) / 128)

    def ours(batch: np.ndarray) -> None:
        engine.embed_crops(batch, live=True)  # one forward pass per face, as OpenCV and the stock model do

    best = _best_of_rounds(
        {
            "opencv": (opencv, 1),
            "ours-1": (ours, 1),
            "stock-1": (stock_fp32, 1),
            "ours-32": (ours, 32),
            "stock-32": (stock_fp32, 32),
        },
        crops,
        seconds=seconds,
    )
    cv_rate = best["opencv"]
    report.add("## Embedding throughput (same production crops, same run, CPU)")
    report.add("")
    report.add(
        "| batch | product embedder (faces/s) | stock InceptionResnetV1 fp32 (faces/s) | OpenCV DNN, original graph, batch 1 (faces/s) | product / OpenCV |"
    )
    report.add("| --- | --- | --- | --- | --- |")
    for batch in (1, 32):
        ours, base = best[f"ours-{batch}"], best[f"stock-{batch}"]
        report.add(f"| {batch} | {ours:.1f} | {base:.1f} | {cv_rate:.1f} | {ours / cv_rate:.2f}x |")
    report.target(
        "CPU embedding >= 3x OpenCV DNN (batch 32)", f"{best['ours-32'] / cv_rate:.2f}x", best["ours-32"] >= 3 * cv_rate
    )
    report.add("")
    report.add(f"- Each figure is the best of 4 interleaved rounds ({seconds / 4:.1f} s each) of the five contenders.")
    report.add(
        f"- Product embedder: {engine.precision}, folded batch norms, channels-last, frozen TorchScript "
        f"(oneDNN); one forward pass per face (a live probe; a template with flip averaging costs two); "
        f"{torch.get_num_threads()} threads."
    )
    report.add("")


class StockDetector:
    """facenet-pytorch's own MTCNN (per-box loops) behind the engine's detector interface, for comparison rows."""

    def __init__(self, *, device, min_face_size: int, thresholds) -> None:
        import torch
        from facenet_pytorch import MTCNN

        self.mtcnn = MTCNN(
            keep_all=True, select_largest=False, min_face_size=min_face_size, thresholds=list(thresholds), device=device
        )
        for net in (self.mtcnn.pnet, self.mtcnn.rnet, self.mtcnn.onet):
            net.to(memory_format=torch.channels_last)

    def detect(self, images) -> list:
        from recognition.engine.detector import DetectedFace

        boxes, probs, points = self.mtcnn.detect(np.stack([np.asarray(i) for i in images]), landmarks=True)
        return [
            []
            if b is None
            else [
                DetectedFace(
                    box=tuple(float(v) for v in box),
                    probability=float(p),
                    landmarks=tuple((float(x), float(y)) for x, y in lm),
                )
                for box, p, lm in zip(b, pr, pt)
            ]
            for b, pr, pt in zip(boxes, probs, points)
        ]


def compared_detectors(engine) -> list[tuple[str, int, object]]:
    """(label, minimum face size, detector): the production detector, the same at MTCNN's customary 20 px, and stock
    facenet-pytorch MTCNN at 20 px (the detector the batched one replaces, with the same results)."""
    from recognition.engine.detector import Detector

    production, thresholds = engine.config.min_face_size, engine.config.detection_thresholds
    rows: list[tuple[str, int, object]] = [("batched MTCNN (production)", production, engine.detector)]
    if production != 20:
        rows.append(("batched MTCNN", 20, Detector(device=engine.device, min_face_size=20, thresholds=thresholds)))
    rows.append(
        (
            "facenet-pytorch MTCNN (stock)",
            20,
            StockDetector(device=engine.device, min_face_size=20, thresholds=thresholds),
        )
    )
    return rows


def frames_per_second(engine, detector, frames, *, seconds: float, batch: int = 1, rounds: int = 4):
    """Best-of-rounds frames/s of detection + live embedding, ``batch`` frames per call; also detection's share."""

    def step(group):
        t0 = time.perf_counter()
        faces = detector.detect(group)
        spent = time.perf_counter() - t0
        engine.embed_faces(group, faces, live=True)
        return spent

    groups = [frames[i : i + batch] for i in range(0, len(frames) - batch + 1, batch)] or [frames]
    step(groups[0])
    best_rate, best_share = 0.0, 0.0
    for _ in range(rounds):  # best of the rounds (the machine may be shared)
        done, detect_time, start = 0, 0.0, time.perf_counter()
        while time.perf_counter() - start < seconds / rounds:
            for group in groups:
                detect_time += step(group)
                done += len(group)
        elapsed = time.perf_counter() - start
        if done / elapsed > best_rate:
            best_rate, best_share = done / elapsed, detect_time / elapsed
    return best_rate, best_share


def section_end_to_end(report: Report, engine, data: dict, *, seconds: float) -> None:
    """Frames/s of detection + embedding (live probes), one frame at a time (as a camera delivers them).

    Rows: the production detector at the production minimum face size, the same at MTCNN's customary 20 px, and
    facenet-pytorch's stock MTCNN at 20 px (the detector this engine's batched MTCNN replaces; same results).
    """
    frames = camera_frames(data["multi_images"])
    thresholds = engine.config.detection_thresholds
    report.add("## Detection + embedding end to end (640x480 frames from the group photos, one frame at a time)")
    report.add("")
    report.add(
        "| detector | MIN_FACE_SIZE | faces found per frame (annotated: 7, 3, 7) | frames/s | share of time in detection |"
    )
    report.add("| --- | --- | --- | --- | --- |")
    for label, min_size, detector in compared_detectors(engine):
        faces_per_frame = [len(f) for f in detector.detect(frames)]
        rate, share = frames_per_second(engine, detector, frames, seconds=seconds)
        report.add(f"| {label} | {min_size} | {faces_per_frame} | **{rate:.1f}** | {share:.0%} |")
        if detector is engine.detector:
            report.target(
                "CPU end to end >= 10 frames/s on 640x480 (production detector settings)",
                f"{rate:.1f} frames/s",
                rate >= 10,
            )
    report.add("")
    report.add(
        f"- Detector thresholds {list(thresholds)}; embedder as above, live probes (flip averaging "
        f"{'on' if engine.flip_average_live else 'off'}); {_threads()} CPU threads, one process."
    )
    report.add("")


def section_face_size(report: Report, engine, data: dict) -> None:
    """How recognition degrades as faces get smaller: the evidence for the minimum face size.

    Each labelled dev photo is shrunk so that its face is N px wide, pasted into a 640x480 frame, detected (at a 12 px
    minimum, so that detection is not what is measured) and embedded as a live probe; genuine and impostor scores are
    against the other dev photos' full-size templates.
    """
    from PIL import Image

    from recognition.engine.detector import Detector

    images, chosen = data["images"], data["chosen"]
    present = [i for i, faces in enumerate(chosen) if faces]
    templates = np.zeros((len(images), engine.embedding_size), dtype=np.float32)
    templates[present] = engine.embed_crops(engine.crops([images[i] for i in present], [chosen[i] for i in present]))
    identities = np.array([item.identity for item in data["items"]])
    detector = Detector(device=engine.device, min_face_size=12, thresholds=engine.config.detection_thresholds)
    threshold = engine.match_threshold
    report.add("## Recognition by face size (evidence for MIN_FACE_SIZE)")
    report.add("")
    report.add(
        "| face width (px) | detected | genuine pairs | mean genuine score | FNMR at product threshold | highest impostor score |"
    )
    report.add("| --- | --- | --- | --- | --- | --- |")
    native = float(np.median([chosen[i][0].box[2] - chosen[i][0].box[0] for i in present]))
    for width in (20, 24, 28, 32, 40, 48, 64):
        genuine, impostor, detected = [], [], 0
        for i in present:
            box = chosen[i][0].box
            scale = width / (box[2] - box[0])
            small = images[i].resize(
                (max(1, round(images[i].width * scale)), max(1, round(images[i].height * scale))),
                Image.Resampling.BILINEAR,
            )
            frame = Image.new("RGB", (640, 480))
            frame.paste(small, (200, 150))
            centre = (200 + (box[0] + box[2]) / 2 * scale, 150 + (box[1] + box[3]) / 2 * scale)
            found = [
                f
                for f in detector.detect([frame])[0]
                if f.box[0] <= centre[0] <= f.box[2] and f.box[1] <= centre[1] <= f.box[3]
            ]
            if not found:
                continue
            detected += 1
            probe = engine.embed_faces([frame], [[found[0]]], live=True)[0][0].embedding
            scores = templates @ probe
            others = [j for j in present if j != i]
            genuine += [float(scores[j]) for j in others if identities[j] == identities[i]]
            impostor += [float(scores[j]) for j in others if identities[j] != identities[i]]
        genuine_a, impostor_a = np.array(genuine), np.array(impostor)
        marker = " (production minimum)" if width == engine.config.min_face_size else ""
        report.add(
            f"| {width}{marker} | {detected}/{len(present)} | {len(genuine_a)} | {genuine_a.mean():.3f} | "
            f"{np.mean(genuine_a < threshold):.1%} | {impostor_a.max():.3f} |"
        )
    report.add("")
    report.add(
        f"- The same dev photos at their native size (median face width {native:.0f} px) give the FNMR in the "
        f"verification section. Below about 40 px the FNMR climbs steeply and impostor scores approach the "
        f"threshold; the detector's minimum (MIN_FACE_SIZE {engine.config.min_face_size}) sits a little below, "
        f"as recognition/engine/config.py explains."
    )
    report.add("")


def _threads() -> int:
    import torch

    return torch.get_num_threads()


def _rss_gib() -> float:
    """Current resident set size of this process."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**30


def section_gallery(report: Report) -> None:
    import torch

    from recognition.engine.gallery import Gallery

    report.add("## Gallery: exact top-5 search per probe (random unit vectors, CPU)")
    report.add("")
    report.add(
        "| templates | ms per probe (median) | ms per probe (p95) | template memory | process RSS growth | top-5 equal to fp32 brute force |"
    )
    report.add("| --- | --- | --- | --- | --- | --- |")
    rng = np.random.default_rng(7)
    for size in (10_000, 100_000, 1_000_000):
        rss_before = _rss_gib()
        gallery = Gallery(scope=f"bench-{size}", capacity=size)
        for start in range(0, size, 100_000):
            block = rng.standard_normal((min(100_000, size - start), 512), dtype=np.float32)
            gallery.add(ids=np.arange(start, start + len(block)), vectors=block)
        probes = rng.standard_normal((40 if size < 1_000_000 else 20, 512), dtype=np.float32)
        rss_growth = _rss_gib() - rss_before
        gallery.search(probes[:2], k=5)
        times = []
        for probe in probes:  # best of 3 searches per probe: the machine is shared (see the load average below)
            runs = []
            for _ in range(3):
                t0 = time.perf_counter()
                gallery.search(probe[None], k=5)
                runs.append((time.perf_counter() - t0) * 1000)
            times.append(min(runs))
        ids, _ = gallery.search(probes[:5], k=5)
        stored = gallery._vectors[: len(gallery)]
        unit = torch.from_numpy(probes[:5] / np.linalg.norm(probes[:5], axis=1, keepdims=True))
        brute = torch.cat([stored[i : i + 65536].float() @ unit.T for i in range(0, len(gallery), 65536)])
        best = torch.topk(brute, 5, dim=0).indices.T.numpy()
        exact = all(set(ids[i]) == set(gallery.ids()[best[i]]) for i in range(5))
        if size in (100_000, 1_000_000):
            limit = 10 if size == 100_000 else 100
            report.target(
                f"Gallery exact top-5 <= {limit} ms per probe at {size:,}",
                f"{np.median(times):.1f} ms (median)",
                bool(np.median(times) <= limit and exact),
            )
        if size == 1_000_000:
            report.target(
                "Gallery 1,000,000 templates within ~1.2 GiB",
                f"{gallery.nbytes / 2**30:.2f} GiB",
                gallery.nbytes <= 1.2 * 2**30,
            )
        report.add(
            f"| {size:,} | {np.median(times):.2f} | {np.percentile(times, 95):.2f} | "
            f"{gallery.nbytes / 2**20:.0f} MiB | {rss_growth:.2f} GiB | {'yes' if exact else 'NO'} (5 probes) |"
        )
        del stored, brute, gallery
    report.add("")
    report.add(
        "- Templates are stored as float16 and scored with fp32 accumulation, then re-ranked exactly in fp32 "
        "(recognition/engine/gallery.py); one probe at a time, as live matching searches; each probe's time is the "
        "best of 3 identical searches."
    )
    report.add("")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=None, help="Write here instead of BENCHMARKS.md's section.")
    parser.add_argument("--seconds", type=float, default=12.0, help="Measuring time per throughput figure.")
    parser.add_argument("--skip-choice", action="store_true", help="Skip the preprocessing/precision grid.")
    parser.add_argument("--gpu-only", action="store_true", help="Only the GPU sections (needs CUDA).")
    parser.add_argument(
        "--backends-only",
        action="store_true",
        help="Only the 'Backends side by side' section (recorded as its own section, engine-backends).",
    )
    parser.add_argument(
        "--throughput-only",
        action="store_true",
        help="With --backends-only: only the frame-rate tables (no dev, impostor-set or face-size figures), "
        "recorded as their own section, engine-frame-rate.",
    )
    parser.add_argument(
        "--impostor-cache",
        type=Path,
        default=None,
        help="Folder for the impostor-set embeddings (reused when present: embedding 4,069 images "
        "takes 15-40 min per backend on 2 shared cores).",
    )
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=UserWarning)
    _setup_django()
    import torch

    from recognition.engine.config import faces_dir
    from recognition.engine.engine import FaceEngine

    started, load_start = time.perf_counter(), os.getloadavg()[0]
    report = Report()
    cuda = torch.cuda.is_available()
    if args.gpu_only and not cuda:
        parser.error("--gpu-only needs a CUDA device.")

    def flush() -> None:
        if args.output:
            args.output.write_text("\n".join(report.lines) + "\n")

    report.add("# Face engine benchmarks")
    report.add("")
    report.add(
        f"- Command: `{' '.join(['python -m benchmarks.engine', *(argv if argv is not None else sys.argv[1:])])}`"
    )
    report.add(f"- Machine: {_machine()}")
    if not cuda:
        report.add("- GPU figures: none; no GPU was available to this run.")
    report.add(f"- Faces: {faces_dir()}")
    report.add("")
    if args.backends_only:
        from benchmarks.backends import section_backends

        section_backends(
            report,
            faces_dir=faces_dir(),
            seconds=args.seconds,
            impostor_cache=args.impostor_cache,
            throughput_only=args.throughput_only,
        )
        flush()
    elif not args.gpu_only:
        from benchmarks.backends import section_backends
        from recognition.engine.engine import config_for

        section_backends(report, faces_dir=faces_dir(), seconds=args.seconds, impostor_cache=args.impostor_cache)
        flush()
        # The sections below measure the FaceNet path's own choices (margin, precision, MTCNN minimum face size).
        engine = FaceEngine(config=dataclasses.replace(config_for("mtcnn+facenet"), device="cpu"))
        data = section_verification(report, engine, faces_dir())
        if not args.skip_choice:
            section_choice(report, engine, data)
        section_throughput(report, engine, data, seconds=args.seconds)
        section_face_size(report, engine, data)
        section_end_to_end(report, engine, data, seconds=args.seconds)
        section_gallery(report)
        del engine
        flush()
    if cuda and not args.backends_only:
        from benchmarks.gpu import run_gpu_sections

        run_gpu_sections(report, faces_dir=faces_dir(), seconds=args.seconds, flush=flush)
    report.add("## Targets (issue 3), as measured in this run")
    report.add("")
    report.add("| target | measured | met |")
    report.add("| --- | --- | --- |")
    for name, measured, met in report.targets:
        report.add(f"| {name} | {measured} | {'yes' if met else '**no**'} |")
    if not cuda:
        report.add(
            "| GPU figures | no GPU on this machine (a GPU run records the engine-gpu section) | not measured here |"
        )
    if not args.backends_only:
        report.add(
            "| >= 99.0% on held-out LFW pairs | no held-out pairs on this machine (dev set only) | not measured |"
        )
    report.add("")
    report.add(
        f"Total benchmark time: {time.perf_counter() - started:.0f} s. Load average at start {load_start:.2f}, at end "
        f"{os.getloadavg()[0]:.2f} (on a {len(os.sched_getaffinity(0))}-core machine; a load above the core count "
        f"means other processes shared the CPUs and the timings are pessimistic)."
    )
    if args.output:
        args.output.write_text("\n".join(report.lines) + "\n")
    else:
        from benchmarks.results import record_markdown as record_benchmark

        # A GPU-only run (e.g. on a lent GPU machine) records its own section beside the CPU run's.
        name, title = ("engine-gpu", "## Face engine on a GPU") if args.gpu_only else ("engine", "## Face engine")
        if args.backends_only:
            name, title = "engine-backends", "## Face engine backends"
        if args.backends_only and args.throughput_only:
            name, title = "engine-frame-rate", "## Face engine frame rate (throughput tables only)"
        text = re.sub(r"^## ", "### ", "\n".join(report.lines), flags=re.MULTILINE)
        args.output = record_benchmark(name, text.replace("# Face engine benchmarks", title, 1))
    print(f"\nWritten to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
