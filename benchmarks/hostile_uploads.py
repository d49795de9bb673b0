"""CPU spent per hostile file at each upload door: ``python -m benchmarks.hostile_uploads``.

For every file of the hostile corpus (``tests/hostile/corpus.py``): the CPU seconds (process time,
best of 3) of the watchlist upload's check-and-re-encode (``image_clean``, run inside the request)
and of the camera frame door (``_check_frame``, run inside the request; a frame it takes is decoded
later by a worker, whose decode is timed too). Also the scan bomb decoded without the scan limit,
for comparison. Records the table in BENCHMARKS.md (section ``hostile-cpu``). Prints figures; asserts
nothing (STYLE.md: benchmarks are not tests). The frame door reads the live engine's choice from the
database: run it against a migrated one (``DATABASE_URL``).
"""

from __future__ import annotations

import io
import os
import platform
import time
from datetime import UTC, datetime


def _cpu(function, data: bytes, *, repeat: int = 3) -> tuple[float, str]:
    best, outcome = float("inf"), ""
    for _ in range(repeat):
        started = time.process_time()
        try:
            function(data)
            outcome = "taken"
        except Exception as error:  # noqa: BLE001 - the refusal is the figure
            outcome = getattr(error, "code", type(error).__name__)
        best = min(best, time.process_time() - started)
    return best, outcome


def _worker_decode(data: bytes) -> None:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.load()


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import warnings

    import django
    from PIL import Image

    warnings.simplefilter("ignore", Image.DecompressionBombWarning)

    django.setup()
    from django.conf import settings

    from benchmarks.results import record_markdown as record_benchmark
    from governance.watchlist.validation import image_clean
    from recognition.deployments.ingest import _check_frame
    from tests.hostile.corpus import _scan_bomb, cases

    started = time.monotonic()
    rows = [
        "| File | Bytes | Upload: CPU s (outcome) | Frame door: CPU s (outcome) | Worker decode of a taken frame: CPU s |"
    ]
    rows.append("| --- | ---: | ---: | ---: | ---: |")
    worst_upload = worst_frame = 0.0
    for case in cases():
        upload_s, upload_outcome = _cpu(image_clean, case.data)
        door_s, frame_outcome = _cpu(_check_frame, case.data)
        decode_s, _ = _cpu(_worker_decode, case.data) if frame_outcome == "taken" else (0.0, "")
        worst_upload, worst_frame = max(worst_upload, upload_s), max(worst_frame, door_s + decode_s)
        decode = f"{decode_s:.3f}" if frame_outcome == "taken" else ""
        rows.append(
            f"| {case.name} | {len(case.data):,} | {upload_s:.3f} ({upload_outcome}) "
            f"| {door_s:.3f} ({frame_outcome}) | {decode} |"
        )
    bomb = _scan_bomb(4000, 4000, 2000)
    unbounded_s, _ = _cpu(_worker_decode, bomb, repeat=1)
    text = "\n".join(
        [
            "## Hostile input: CPU per request at each upload door",
            "",
            f"Command: `python -m benchmarks.hostile_uploads` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
            f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}; load average at start "
            f"{os.getloadavg()[0]:.2f}). CPU seconds are process time, best of 3. Limits: "
            f"{settings.OVERSIGHT_WATCHLIST_MAX_PIXELS:,} pixels per upload, {settings.OVERSIGHT_FRAME_MAX_PIXELS:,} "
            f"per frame, {settings.OVERSIGHT_JPEG_MAX_SCANS} JPEG scans.",
            "",
            *rows,
            "",
            f"- Over the corpus, worst upload request: **{worst_upload:.2f} s** of CPU; worst frame (door + worker decode): "
            f"**{worst_frame:.2f} s**.",
            f"- For comparison, a {len(bomb) // 1024} KB progressive JPEG of 4000x4000 with 2,000 repeated scans, "
            f"decoded without the scan limit: **{unbounded_s:.1f} s** of CPU (it is now refused before decoding, "
            "`too_many_scans`).",
            "- The upload's worst case is a lawful image at the pixel limit: its decode and re-encode grow with "
            "the pixel count, which `OVERSIGHT_WATCHLIST_MAX_PIXELS` bounds.",
            f"Total benchmark time: {time.monotonic() - started:.0f} s.",
        ]
    )
    print(text)
    record_benchmark("hostile-cpu", text)


if __name__ == "__main__":
    main()
