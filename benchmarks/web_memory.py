"""Memory of the web processes (README, "Sizing"): ``python -m benchmarks.web_memory``.

Runs ``python -m governance.ops.webmemory`` (gunicorn with the ``make web`` command line, three workers, on a
loopback port; a few requests of each kind to each worker, then the warm-ups) in the caller's environment — run it
with the scaled-out form's settings (``DATABASE_URL`` of a migrated database, ``CELERY_BROKER_URL``,
``OVERSIGHT_FRAME_STORE_URL``, ``CACHE_URL``) — and records each worker's RSS and PSS and whether torch is mapped in
it, as ``benchmarks/results/web-memory.json`` and its section of BENCHMARKS.md. Asserts nothing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

from benchmarks import results

NAME = "web-memory"
LINE = re.compile(r"gunicorn (worker|arbiter) (\d+): RSS (\d+) MB, PSS (\d+) MB(?:, torch mapped: (True|False))?")


@results.renderer(NAME)
def render(figures: dict) -> str:
    workers = figures["workers"]
    lines = [
        "## Web process memory (gunicorn, the `make web` command line)",
        "",
        f"Settings: {figures['settings']}. After {figures['requests']} requests spread over the workers (sign-in page, "
        "liveness, readiness, an API call without credentials, the home page) and the warm-ups.",
        "",
        "| process | RSS (MB) | PSS (MB) | torch mapped |",
        "| --- | ---: | ---: | --- |",
    ]
    lines += [f"| worker | {w['rss_mb']} | {w['pss_mb']} | {'yes' if w['torch'] else 'no'} |" for w in workers]
    arbiter = figures["arbiter"]
    lines.append(f"| arbiter | {arbiter['rss_mb']} | {arbiter['pss_mb']} | |")
    if workers:
        rss = [w["rss_mb"] for w in workers]
        pss = [w["pss_mb"] for w in workers]
        lines += ["", f"Workers: RSS {min(rss)}-{max(rss)} MB, PSS {min(pss)}-{max(pss)} MB."]
    return "\n".join(lines)


def main() -> int:
    run = subprocess.run(
        [sys.executable, "-m", "governance.ops.webmemory"], capture_output=True, text=True, check=False, timeout=600
    )
    print(run.stdout, run.stderr, sep="\n")
    workers, arbiter = [], {}
    for kind, _pid, rss, pss, torch in LINE.findall(run.stdout):
        entry = {"rss_mb": int(rss), "pss_mb": int(pss)}
        if kind == "worker":
            workers.append({**entry, "torch": torch == "True"})
        else:
            arbiter = entry
    if not workers:
        sys.exit("No worker figures printed: see the output above.")
    named = [
        n for n in ("DATABASE_URL", "CELERY_BROKER_URL", "OVERSIGHT_FRAME_STORE_URL", "CACHE_URL") if os.environ.get(n)
    ]
    figures = {
        "workers": workers,
        "arbiter": arbiter,
        "requests": 3 * 4 * 5,  # governance.ops.webmemory: workers x 4 rounds of its 5 paths
        "settings": ", ".join(f"`{n}` set" for n in named) or "the embedded default (nothing set)",
    }
    path = results.record(NAME, command="python -m benchmarks.web_memory", figures=figures)
    print(f"Written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
