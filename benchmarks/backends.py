"""Benchmark section "Backends side by side": YuNet + SFace, MTCNN + FaceNet (production) and stock facenet-pytorch,
on the same frames and faces in one run. Called by ``python -m benchmarks.engine`` (``--backends-only`` runs just
this section). Everything printed is an aggregate; no biometric data leaves this module.

What decides the default (README.md, docs/engine.md): accuracy and separation on the dev faces, the false-non-match
rate at each backend's own threshold (derived by one rule on the 4,069-person impostor set), recognition by face size,
CPU frames/s at 640x480 and 1280x720, and the licence of the weights.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

BACKENDS = (("YuNet + SFace", "yunet+sface"), ("MTCNN + FaceNet (production path)", "mtcnn+facenet"))
STOCK_LABEL = "facenet-pytorch stock (MTCNN loops 20 px, fp32 eager, 1 face per pass)"
PREVIOUS_LABEL = "YuNet + SFace before issue 15's frame-rate work (OpenCV DNN detector, fp32 live probes)"
LICENCES = {
    "yunet+sface": "YuNet MIT; SFace Apache-2.0 (training data undocumented)",
    "mtcnn+facenet": "MTCNN MIT (facenet-pytorch); CASIA-WebFace weights non-commercial research only",
    "stock": "as MTCNN + FaceNet",
}


class StockFacenet:
    """facenet-pytorch as shipped: its MTCNN (per-box loops, 20 px) and InceptionResnetV1 in fp32, eager, NCHW, one
    face per forward, with the same CASIA-WebFace weights and crops, no flip averaging: the baseline row."""

    backend = "stock"
    embedder_name = "facenet"
    embedding_size = 512

    def __init__(self, facenet_engine) -> None:
        import torch
        from facenet_pytorch import InceptionResnetV1

        from benchmarks.engine import StockDetector
        from recognition.engine.weights import load_state_dict

        self._engine = facenet_engine
        self.match_threshold = facenet_engine.match_threshold
        self.detector = StockDetector(
            device=torch.device("cpu"), min_face_size=20, thresholds=facenet_engine.config.detection_thresholds
        )
        model = InceptionResnetV1(pretrained=None, classify=False)
        weights = {
            k: v for k, v in load_state_dict(facenet_engine.config.weights_path).items() if not k.startswith("logits.")
        }
        model.load_state_dict(weights)
        self.model = model.eval()

    def detect(self, images):
        return [self.detector.detect([image])[0] for image in images]  # stock MTCNN batches need one image size

    def crops(self, images, faces):
        return self._engine.crops(images, faces)

    def embed_crops(self, crops, *, live: bool = False):
        import torch

        out = np.zeros((len(crops), 512), dtype=np.float32)
        with torch.inference_mode():
            for i, crop in enumerate(crops):
                x = torch.from_numpy(np.ascontiguousarray(crop[None])).permute(0, 3, 1, 2).float().sub(127.5).div(128)
                out[i] = torch.nn.functional.normalize(self.model(x), dim=1).numpy()[0]
        return out

    def embed_faces(self, images, faces, *, live: bool = False):
        return self.embed_crops(self.crops(images, faces), live=live)

    def analyse(self, images, *, live: bool = False):
        return self.embed_faces(images, self.detect(images), live=live)


class OpenCvYuNet:
    """The YuNet detector as it ran before onnxruntime: the same graph, decoding and rules run by OpenCV 5's
    ``FaceDetectorYN`` (one BGR copy of the frame per call). The reference of the 'before' row."""

    def __init__(self, detector) -> None:
        import cv2

        self._detector = detector
        model = np.frombuffer(detector.model_bytes, dtype=np.uint8)
        self._yn = cv2.FaceDetectorYN.create("onnx", model, np.zeros(0, np.uint8), (320, 320), 0.8, 0.3, 5000)
        self.min_face_size = detector.min_face_size

    def rows(self, pixels):
        self._yn.setInputSize((pixels.shape[1], pixels.shape[0]))
        _, rows = self._yn.detect(np.ascontiguousarray(pixels[:, :, ::-1]))
        return np.zeros((0, 15), np.float32) if rows is None else rows

    def detect(self, images):
        from recognition.engine.yunet import rgb_pixels

        return [self._detector.faces_from(self.rows, rgb_pixels(image)) for image in images]


class PreviousSFace:
    """YuNet + SFace as measured before the frame-rate work (issue 15): OpenCV's ``FaceDetectorYN``, live probes in
    fp32, and each frame's pixels read separately by the detector and the alignment. Same models, same faces."""

    embedder_name = "sface"

    def __init__(self, sface_engine) -> None:
        self._engine = sface_engine
        self.embedding_size = sface_engine.embedding_size
        self.detector = OpenCvYuNet(sface_engine.detector)

    def detect(self, images):
        return self.detector.detect(images)

    def crops(self, images, faces):
        return self._engine.crops(images, faces)

    def embed_crops(self, crops, *, live: bool = False):
        flip = self._engine.flip_average_live if live else self._engine.flip_average
        return self._engine.embedder.embed(crops, flip_average=flip)  # fp32, templates and probes alike

    def embed_faces(self, images, faces, *, live: bool = False):
        return self.embed_crops(self.crops(images, faces), live=live)

    def analyse(self, images, *, live: bool = False):
        return self.embed_faces(images, self.detect(images), live=live)


def _dev(engine, faces_dir: Path) -> dict:
    from recognition.engine.evaluation import (
        all_pairs,
        central_face_index,
        kfold_accuracy,
        labelled_images,
        load_rgb,
        rates_at,
        separation,
    )

    items = labelled_images(faces_dir)
    images = [load_rgb(item.path) for item in items]
    chosen = []
    for image, found in zip(images, engine.detect(images)):
        index = central_face_index([f.box for f in found], width=image.width, height=image.height)
        chosen.append([found[index]] if index is not None else [])
    present = [i for i, c in enumerate(chosen) if c]
    crops = engine.crops([images[i] for i in present], [chosen[i] for i in present])
    templates = np.zeros((len(items), engine.embedding_size), dtype=np.float32)
    probes = np.zeros_like(templates)
    templates[present] = engine.embed_crops(crops)
    probes[present] = engine.embed_crops(crops, live=True)
    pairs, same = all_pairs([item.identity for item in items])
    scores = np.sum(templates[pairs[:, 0]] * templates[pairs[:, 1]], axis=1)
    live = np.concatenate(
        [
            np.sum(templates[pairs[:, 0]] * probes[pairs[:, 1]], axis=1),
            np.sum(probes[pairs[:, 0]] * templates[pairs[:, 1]], axis=1),
        ]
    )
    live_same = np.concatenate([same, same])
    threshold = engine.match_threshold
    group = sorted((faces_dir / "dev" / "_multi").glob("*.jpg"))
    none = sorted((faces_dir / "dev" / "_none").glob("*.jpg"))
    return {
        "missing": len(items) - len(present),
        "accuracy": kfold_accuracy(scores, same)[0],
        "d": separation(scores, same),
        "rates": rates_at(scores, same, threshold=threshold),
        "live_rates": rates_at(live, live_same, threshold=threshold),
        "highest_impostor": float(scores[~same].max()),
        "lowest_genuine": float(scores[same].min()),
        "group_faces": sum(len(f) for f in engine.detect([load_rgb(p) for p in group])),
        "none_faces": sum(len(f) for f in engine.detect([load_rgb(p) for p in none])),
        "items": items,
        "images": images,
        "chosen": chosen,
        "templates": templates,
        "present": present,
    }


def _impostors(engine, faces_dir: Path, cache_dir: Path | None):
    from recognition.engine.evaluation import (
        impostor_embeddings,
        impostor_paths,
        impostor_scores,
    )

    # Named by the live probes' precision too (SFace's are bf16 on a CPU since issue 15): a cache of other probes
    # would measure other arithmetic.
    live = getattr(engine.embedder, "live_precision", engine.precision)
    name = f"imp-{engine.config.detector}+{engine.config.embedder}-live-{live}.npz"
    cached = cache_dir / name if cache_dir else None
    if cached is not None and cached.is_file():
        data = np.load(cached)
        templates, probes, missing, source = data["T"], data["P"], int(data["missing"]), f"embeddings from {cached}"
    else:
        templates, probes, missing = impostor_embeddings(engine, impostor_paths(faces_dir))
        source = "embedded in this run"
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            np.savez(cached, T=templates, P=probes, missing=missing)
    return (*impostor_scores(templates, probes), missing, len(templates), source)


def _size_rows(engine, dev: dict, reference: dict, widths=(20, 24, 28, 32, 40, 64)) -> dict[int, tuple]:
    """Live probes from dev photos shrunk so the face is ``width`` px wide (the FaceNet engine's MTCNN box, so every
    backend sees the same frames), against each backend's own native-size templates."""
    from PIL import Image

    identities = np.array([item.identity for item in dev["items"]])
    templates, present = dev["templates"], dev["present"]
    rows = {}
    for width in widths:
        genuine, detected, total = [], 0, 0
        for i in reference["present"]:
            if i not in present:
                continue
            total += 1
            box = reference["chosen"][i][0].box
            scale = width / (box[2] - box[0])
            image = dev["images"][i]
            small = image.resize(
                (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.BILINEAR
            )
            frame = Image.new("RGB", (640, 480))
            frame.paste(small, (200, 150))
            centre = (200 + (box[0] + box[2]) / 2 * scale, 150 + (box[1] + box[3]) / 2 * scale)
            found = [
                f
                for f in engine.size_detector.detect([frame])[0]
                if f.box[0] <= centre[0] <= f.box[2] and f.box[1] <= centre[1] <= f.box[3]
            ]
            if not found:
                continue
            detected += 1
            probe = engine.embed_crops(engine.crops([frame], [[found[0]]]), live=True)[0]
            scores = templates @ probe
            genuine += [float(scores[j]) for j in present if j != i and identities[j] == identities[i]]
        g = np.array(genuine)
        rows[width] = (detected, total, float(np.mean(g < engine.match_threshold)) if len(g) else float("nan"))
    return rows


def _throughput(engines: dict, sizes, *, seconds: float, rounds: int = 4) -> dict:
    """Best of interleaved rounds: frames/s end to end (detect + live embed, one frame per call), faces per frame, and
    embedding ms per face (each frame's faces embedded together, as live matching does)."""
    from recognition.engine.evaluation import camera_frames as _frames

    results = {}
    for size, images in sizes.items():
        frames = _frames(images, *size)
        crops = {}
        for name, engine in engines.items():
            found = engine.detect(frames)
            crops[name] = [engine.crops([frame], [faces]) for frame, faces in zip(frames, found) if faces]
            engine.embed_faces(frames[:1], found[:1], live=True)  # warm-up
            results[(name, size)] = {"faces": [len(f) for f in found], "rate": 0.0, "ms_per_face": float("inf")}
        for _ in range(rounds):  # interleaved: every backend once per round, best round kept (shared machine)
            for name, engine in engines.items():
                done, start = 0, time.perf_counter()
                while time.perf_counter() - start < seconds / rounds / len(engines):
                    for frame in frames:
                        engine.analyse([frame], live=True)  # what frame_process calls
                        done += 1
                rate = done / (time.perf_counter() - start)
                t0 = time.perf_counter()
                for batch in crops[name]:
                    engine.embed_crops(batch, live=True)
                per_face = (time.perf_counter() - t0) * 1000 / max(1, sum(len(b) for b in crops[name]))
                entry = results[(name, size)]
                entry["rate"] = max(entry["rate"], rate)
                entry["ms_per_face"] = min(entry["ms_per_face"], per_face)
    return results


def _frame_path(engine, frames_by_size: dict, *, rounds: int = 5, gallery_size: int = 10_000) -> dict:
    """Per-stage milliseconds of the live path for one engine, as ``frame_process`` runs it: JPEG bytes (quality 90)
    decoded by ``decode_image``, YuNet/MTCNN detection, alignment, live embedding of the frame's faces in one batch,
    and the top-1 search of a gallery of ``gallery_size`` random templates. Each stage's figure is its median over the
    frames, best of ``rounds`` rounds (a shared machine); the end-to-end rate is from the best round's total."""
    import io

    from recognition.engine.gallery import Gallery
    from recognition.engine.images import decode_image
    from recognition.engine.yunet import rgb_pixels

    rng = np.random.default_rng(5)
    gallery = Gallery(scope="bench-frame-path", capacity=gallery_size, dimension=engine.embedding_size)
    vectors = rng.standard_normal((gallery_size, engine.embedding_size)).astype(np.float32)
    gallery.add(ids=np.arange(gallery_size), vectors=vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    results = {}
    for size, frames in frames_by_size.items():
        jpegs = []
        for frame in frames:
            out = io.BytesIO()
            frame.save(out, format="JPEG", quality=90)
            jpegs.append(out.getvalue())
        best: dict[str, float] = {}
        best_total = float("inf")
        for _ in range(rounds):
            stages: dict[str, list[float]] = {k: [] for k in ("decode", "detect", "align", "embed", "search")}
            total = 0.0
            for data in jpegs:
                t0 = time.perf_counter()
                pixels = rgb_pixels(decode_image(data, max_pixels=3840 * 2160))
                t1 = time.perf_counter()
                faces = engine.detect([pixels])
                t2 = time.perf_counter()
                crops = engine.crops([pixels], faces)
                t3 = time.perf_counter()
                embeddings = engine.embed_crops(crops, live=True)
                t4 = time.perf_counter()
                if len(embeddings):
                    gallery.search(embeddings, k=1)
                t5 = time.perf_counter()
                for key, seconds in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
                    stages[key].append(seconds * 1000)
                total += t5 - t0
            for key, values in stages.items():
                best[key] = min(best.get(key, float("inf")), float(np.median(values)))
            best_total = min(best_total, total)
        results[size] = best | {"rate": len(jpegs) / best_total, "kib": sum(map(len, jpegs)) / len(jpegs) / 1024}
    return results


def _accuracy_sections(report, engines: dict, *, faces_dir: Path, impostor_cache: Path | None) -> None:
    """Dev faces, the impostor-set threshold and recognition by face size, for every engine in ``engines``."""
    from recognition.engine.evaluation import wilson_interval
    from recognition.engine.thresholds import TARGET_FMR

    licences = {label: LICENCES[choice] for label, choice in BACKENDS} | {STOCK_LABEL: LICENCES["stock"]}
    dev = {name: _dev(engine, faces_dir) for name, engine in engines.items()}
    report.add(
        "### Dev faces (42 labelled LFW images, 70 genuine / 791 impostor pairs; 17 annotated group faces; "
        "3 no-face photos)"
    )
    report.add("")
    report.add(
        "| backend | threshold | 10-fold accuracy | d' | FNMR templates | FNMR live probe vs template | "
        "FMR | highest impostor / lowest genuine | group faces found | faces in no-face photos | licence |"
    )
    report.add("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, engine in engines.items():
        d = dev[name]
        r, lr = d["rates"], d["live_rates"]
        report.add(
            f"| {name} | {engine.match_threshold:.2f} | {d['accuracy']:.2%} | {d['d']:.2f} | "
            f"{r.false_non_matches}/{r.genuine_pairs} = {r.fnmr:.1%} | {lr.false_non_matches}/{lr.genuine_pairs} "
            f"= {lr.fnmr:.1%} | {r.false_matches}/{r.impostor_pairs} | {d['highest_impostor']:.3f} / "
            f"{d['lowest_genuine']:.3f} | {d['group_faces']} | {d['none_faces']} | {licences[name]} |"
        )
    report.add("")
    report.add("### Threshold on the impostor set (`shared/faces/impostors`: 4,069 people, one image each)")
    report.add("")
    report.add(
        "| backend | faces | pairs | impostor mean / sd / highest | normal-tail / empirical at the target | derived "
        "| FMR at the threshold in code (95% Wilson) | same, live probe vs template |"
    )
    report.add("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, _choice in BACKENDS:
        engine = engines[label]
        tt, live, missing, n, source = _impostors(engine, faces_dir, impostor_cache)
        from recognition.engine.thresholds import derive_threshold

        derived = derive_threshold(tt, target_fmr=TARGET_FMR)
        t = engine.match_threshold
        fm, lfm = int(np.sum(tt >= t)), int(np.sum(live >= t))
        lo, hi = wilson_interval(fm, len(tt))
        llo, lhi = wilson_interval(lfm // 2, len(live) // 2)
        report.add(
            f"| {label} | {n} ({missing} without a face) | {len(tt):,} | {tt.mean():.3f} / {tt.std(ddof=1):.3f} / "
            f"{tt.max():.3f} | {derived['parametric']:.3f} / {derived['empirical']:.3f} | "
            f"**{derived['threshold']:.2f}** | {t:.2f}: {fm:,} = {fm / len(tt):.2e} ({lo:.2e}-{hi:.2e}) | "
            f"{lfm:,}/{len(live):,} = {lfm / len(live):.2e} ({llo:.2e}-{lhi:.2e}) |"
        )
        report.add(f"  - {label}: {source}.")
    report.add("")
    report.add(
        "- The highest impostor scores are LFW labelling, not the models: the same person under two names "
        "(Noer Moeis / Noer Muis, Doc Rivers / Glenn Rivers, Chyung Dai-chul / Dai Chul Chyung), twins (Tamara / "
        "Tia Mowry) and near-identical photos of two names; the empirical tail at 1e-4 is set by hundreds of "
        "pairs, not by those few. The live column's interval counts each unordered pair once (both orders of a "
        "pair are not independent)."
    )
    report.add("")
    report.add("### Recognition by face size (live probes from shrunk dev photos vs native templates)")
    report.add("")
    report.add(
        "| face width (px, MTCNN box) | " + " | ".join(f"{label}: detected, FNMR" for label, _ in BACKENDS) + " |"
    )
    report.add("| --- | " + " | ".join("---" for _ in BACKENDS) + " |")
    sizes = {label: _size_rows(engines[label], dev[label], dev[BACKENDS[1][0]]) for label, _ in BACKENDS}
    for width in next(iter(sizes.values())):
        cells = []
        for label, _ in BACKENDS:
            detected, total, fnmr = sizes[label][width]
            cells.append(f"{detected}/{total}, {fnmr:.1%}")
        report.add(f"| {width} | " + " | ".join(cells) + " |")
    report.add("")
    report.add(
        "- Detectors here look for faces down to 8 px (YuNet) / 12 px (MTCNN) so that the embedder, not the "
        "detector's minimum, is measured; each backend at its own threshold."
    )
    report.add("")


def section_backends(
    report, *, faces_dir: Path, seconds: float, impostor_cache: Path | None, throughput_only: bool = False
) -> None:
    import dataclasses

    from recognition.engine.config import load_config
    from recognition.engine.detector import Detector
    from recognition.engine.engine import FaceEngine, config_for
    from recognition.engine.evaluation import load_rgb
    from recognition.engine.thresholds import TARGET_FMR
    from recognition.engine.yunet import YuNetDetector

    engines = {}
    for label, choice in BACKENDS:
        engines[label] = FaceEngine(config=dataclasses.replace(config_for(choice), device="cpu"))
    facenet = engines[BACKENDS[1][0]]
    engines[STOCK_LABEL] = StockFacenet(facenet)
    sface = engines[BACKENDS[0][0]]
    from recognition.engine import zoo

    sface.size_detector = YuNetDetector(
        model=zoo.verified_bytes(zoo.bundled_path(zoo.YUNET_FILE), sha256=zoo.YUNET_SHA256), min_face_size=8
    )
    facenet.size_detector = Detector(
        device=facenet.device, min_face_size=12, thresholds=facenet.config.detection_thresholds
    )
    default = f"{load_config().detector}+{load_config().embedder}"

    report.add("## Backends side by side (one run, same frames and faces)")
    report.add("")
    report.add(
        f"- Default backend in settings: `{default}`. Each backend at its own threshold (derived by the same "
        f"rule, `thresholds.derive_threshold`, target FMR {TARGET_FMR:g} per comparison)."
    )
    report.add("")
    if not throughput_only:
        _accuracy_sections(report, engines, faces_dir=faces_dir, impostor_cache=impostor_cache)
    multi = [load_rgb(p) for p in sorted((faces_dir / "dev" / "_multi").glob("*.jpg"))]
    frame_sizes = {(640, 480): multi, (1280, 720): multi}
    # The 'before' row: the default backend as it ran before this work, on the same frames in the same rounds.
    timed = {BACKENDS[0][0]: sface, PREVIOUS_LABEL: PreviousSFace(sface)} | {
        name: engine for name, engine in engines.items() if name != BACKENDS[0][0]
    }
    results = _throughput(timed, frame_sizes, seconds=seconds * len(timed) / len(engines))
    report.add(
        f"### CPU throughput end to end (decoded frame -> faces -> live embeddings: `FaceEngine.analyse`, what "
        f"`frame_process` calls), one frame per call, best of 4 interleaved rounds, {seconds:.0f} s per frame size "
        f"and backend row group"
    )
    report.add("")
    report.add("| backend | frame | faces found per frame (annotated 7, 3, 7) | frames/s | embedding ms per face |")
    report.add("| --- | --- | --- | --- | --- |")
    for (name, size), entry in results.items():
        report.add(
            f"| {name} | {size[0]}x{size[1]} | {entry['faces']} | **{entry['rate']:.1f}** | "
            f"{entry['ms_per_face']:.1f} |"
        )
        if name == next(label for label, choice in BACKENDS if choice == default):
            target = 25 if size == (640, 480) else 15
            report.target(
                f"Default backend ({default}) >= {target} frames/s end to end at {size[0]}x{size[1]}",
                f"{entry['rate']:.1f} frames/s",
                entry["rate"] >= target,
            )
    report.add("")
    _report_frame_path(report, sface, PreviousSFace(sface), frame_sizes)


def _report_frame_path(report, engine, previous, frame_sizes: dict) -> None:
    from recognition.engine.evaluation import camera_frames as _frames

    report.add("### Face engine frame path: where a frame's time goes (default backend, JPEG bytes -> gallery search)")
    report.add("")
    report.add(
        "| engine | frame (JPEG KiB) | decode | detect | align | embed (live, all faces) | search (10,000) | "
        "frames/s from JPEG bytes |"
    )
    report.add("| --- | --- | --- | --- | --- | --- | --- | --- |")
    sized = {size: _frames(images, *size) for size, images in frame_sizes.items()}
    now = _frame_path(engine, sized)
    before = _frame_path(previous, sized)
    for label, figures in (("YuNet + SFace (now)", now), ("before", before)):
        for size, f in figures.items():
            report.add(
                f"| {label} | {size[0]}x{size[1]} ({f['kib']:.0f}) | {f['decode']:.1f} ms | {f['detect']:.1f} ms | "
                f"{f['align']:.1f} ms | {f['embed']:.1f} ms | {f['search']:.2f} ms | **{f['rate']:.1f}** |"
            )
    report.add("")
    report.add(
        "- Medians over the three group-photo frames (7, 3 and 7 faces), best of 5 rounds, 'now' and 'before' in the "
        "same run. Not in these figures: the database work of each frame (the hourly counter's get-or-create and "
        "update; an alert's rows only above the threshold) and the frame store round trip."
    )
    report.add("")
