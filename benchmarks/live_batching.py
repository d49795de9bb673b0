"""Live micro-batching: frames/s of the live path (``FaceEngine.analyse_live``, what every frame task calls) when the
threads of one worker process match frames at once, one frame a pass against several frames a pass.

    .venv/bin/python -m benchmarks.live_batching [--seconds 6] [--rounds 3] [--sizes 640x480,1280x720]
        [--backends yunet+sface] [--output FILE]

Each row is a worker of T task threads, each thread matching frame after frame (the three annotated group photos,
7, 3 and 7 faces, scaled onto camera-sized frames, already decoded) as a threads-pool worker's tasks would; rows
differ only in ``live batch`` (1: each thread runs its own frame through the engine; N: a pass takes up to N waiting
frames, ``live_batching.LiveBatcher``). Rows are measured in interleaved rounds and the best round is reported
(timings on a shared machine are noisy). Per-frame latency is from a thread handing its frame in to getting its
faces back. On a machine with CUDA the same grid runs on the GPU (and the CPU rows are skipped: ``--device``).

Recorded in BENCHMARKS.md as ``live-batching`` (CPU) or ``live-batching-gpu`` (CUDA), unless ``--output`` is given.
Prints figures; asserts nothing (benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import threading
import time
import warnings

# (threads, live batch) per device: one frame a pass at 1, 2 and 4 threads against batches that the threads fill.
GRIDS = {
    "cpu": [(1, 1), (2, 1), (4, 1), (4, 4), (8, 8)],
    "cuda": [(1, 1), (4, 1), (16, 1), (16, 16), (32, 32)],
}


def _frames(faces_dir, width: int, height: int) -> list:
    from recognition.engine.evaluation import camera_frames, load_rgb

    return camera_frames([load_rgb(p) for p in sorted((faces_dir / "dev" / "_multi").glob("*.jpg"))], width, height)


@dataclasses.dataclass
class Row:
    threads: int
    batch: int
    fps: float = 0.0
    latency_ms: list = dataclasses.field(default_factory=list)
    frames_per_pass: float = 1.0


def _measure(engine, frames: list, threads: int, seconds: float) -> tuple[float, list[float]]:
    """Frames/s of ``threads`` threads calling ``analyse_live`` in a loop for ``seconds``; each frame's latency."""
    stop = time.perf_counter() + seconds
    counts = [0] * threads
    latencies: list[list[float]] = [[] for _ in range(threads)]
    start = threading.Barrier(threads + 1)

    def run(n: int) -> None:
        start.wait()
        k = n
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            engine.analyse_live(frames[k % len(frames)])
            latencies[n].append(time.perf_counter() - t0)
            counts[n] += 1
            k += 1

    pool = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(threads)]
    for thread in pool:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in pool:
        thread.join()
    return sum(counts) / (time.perf_counter() - began), [x for per in latencies for x in per]


def _grid(engine, frames: list, grid, *, seconds: float, rounds: int) -> list[Row]:
    rows = [Row(threads, batch) for threads, batch in grid]
    for _ in range(rounds):
        for row in rows:  # interleaved: every configuration once per round
            engine.set_live_batching(row.batch)
            _measure(engine, frames, row.threads, min(1.0, seconds / 4))  # warm this shape
            batcher = engine.live_batcher() if row.batch > 1 else None
            before = dataclasses.replace(batcher.figures) if batcher else None
            fps, latencies = _measure(engine, frames, row.threads, seconds)
            if fps > row.fps:
                row.fps, row.latency_ms = fps, [x * 1000 for x in latencies]
                if batcher:
                    passes = batcher.figures.passes - before.passes
                    row.frames_per_pass = (batcher.figures.frames - before.frames) / passes if passes else 0.0
    engine.set_live_batching(1)
    return rows


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="Measuring time per row and round.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", default=None, help="Default 640x480,1280x720 on a CPU; 1280x720,1920x1080 on CUDA.")
    parser.add_argument(
        "--backends", default=None, help="Comma-separated; default yunet+sface on a CPU, both backends on CUDA."
    )
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto (CUDA where present).")
    parser.add_argument("--output", default=None, help="Write the section here instead of BENCHMARKS.md.")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=UserWarning)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import torch

    from benchmarks.engine import _machine
    from recognition.engine.config import faces_dir
    from recognition.engine.engine import FaceEngine, config_for

    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    sizes = args.sizes or ("1280x720,1920x1080" if device == "cuda" else "640x480,1280x720")
    backends = args.backends or ("yunet+sface,mtcnn+facenet" if device == "cuda" else "yunet+sface")
    started, load_start = time.perf_counter(), os.getloadavg()[0]
    lines = [
        f"## Live micro-batching ({'GPU' if device == 'cuda' else 'CPU'}): one frame a pass against several frames "
        "a pass, threads of one worker process",
        "",
        f"- Command: `python -m benchmarks.live_batching {' '.join(argv if argv is not None else sys.argv[1:])}`"
        f"; {time.strftime('%Y-%m-%d %H:%M')}",
        f"- Machine: {_machine()}",
        f"- Device: {device}. Frames: the three annotated group photos (7, 3, 7 faces) on camera-sized frames, decoded "
        "in advance; each thread matches frame after frame through `FaceEngine.analyse_live` (detection, alignment "
        "or crop, live embedding), as a threads-pool worker's frame tasks do. Best of "
        f"{args.rounds} interleaved rounds of {args.seconds:g} s per row.",
        "",
        "| backend | frame | task threads | live batch | frames/s | frames per pass | latency p50 (ms) | p95 (ms) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    print("\n".join(lines), flush=True)
    best: dict[tuple[str, str], tuple[float, float]] = {}
    for choice in backends.split(","):
        engine = FaceEngine(config=dataclasses.replace(config_for(choice), device=device))
        for size in sizes.split(","):
            width, height = (int(v) for v in size.split("x"))
            frames = _frames(faces_dir(), width, height)
            for row in _grid(engine, frames, GRIDS[device], seconds=args.seconds, rounds=args.rounds):
                line = (
                    f"| {choice} | {size} | {row.threads} | {row.batch} | **{row.fps:.1f}** | "
                    f"{row.frames_per_pass:.1f} | {_p(row.latency_ms, 0.5):.0f} | {_p(row.latency_ms, 0.95):.0f} |"
                )
                print(line, flush=True)
                lines.append(line)
                kind = "batched" if row.batch > 1 else "single"
                key = (f"{choice} {size}", kind)
                best[key] = max(best.get(key, (0.0, 0.0)), (row.fps, row.threads))
        del engine
    lines.append("")
    for (label, kind), (fps, _threads) in sorted(best.items()):
        if kind == "batched":
            single = best.get((label, "single"), (0.0, 0))[0]
            lines.append(
                f"- {label}: best micro-batched {fps:.1f} frames/s against best one-frame-a-pass {single:.1f} "
                f"({fps / single:.2f}x)"
                if single
                else f"- {label}: best micro-batched {fps:.1f} frames/s"
            )
            default = 16 if device == "cuda" else 1
            lines.append(
                f"  - micro-batching is {'faster' if fps > single else 'not faster'} here; the {device} default is "
                f"LIVE_BATCH_FRAMES {default} ({'batching on' if default > 1 else 'batching off'})"
            )
    lines.append(
        f"- Total time {time.perf_counter() - started:.0f} s; load average at start {load_start:.2f}, at end "
        f"{os.getloadavg()[0]:.2f} on {len(os.sched_getaffinity(0))} cores."
    )
    text = "\n".join(lines)
    print(text[text.rindex("|") + 1 :].strip())
    if args.output:
        with open(args.output, "w") as out:
            out.write(text + "\n")
    else:
        from benchmarks.results import record_markdown as record_benchmark

        record_benchmark("live-batching-gpu" if device == "cuda" else "live-batching", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
