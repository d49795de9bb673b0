"""How much memory a web process holds: ``python -m governance.ops.webmemory [--port 8108]``.

Starts gunicorn with the ``make web`` command line (``config.wsgi:application``, ``config/gunicorn.conf.py``, three
workers) on a loopback port, sends each worker a few requests of each kind (the sign-in page, liveness, readiness, an
API call without credentials), waits for the warm-ups, and prints each worker's RSS and PSS (Linux ``smaps_rollup``)
and whether its memory maps hold torch. The environment is the caller's (``DATABASE_URL``, ``CELERY_BROKER_URL`` …):
run it with the scaled-out form's settings. Exits 1 when a worker has torch mapped (README, "Sizing")."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PATHS = ("/accounts/login/", "/health/live/", "/health/ready/", "/api/v1/agreements/", "/")


def _memory(pid: int) -> tuple[float, float, bool]:
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    fields = {line.split()[0].rstrip(":"): int(line.split()[1]) for line in rollup.splitlines()[1:] if line.split()}
    maps = Path(f"/proc/{pid}/maps").read_text()
    return fields.get("Rss", 0) / 1024, fields.get("Pss", 0) / 1024, "libtorch" in maps or "/torch/" in maps


def _get(url: str) -> None:
    try:
        urllib.request.urlopen(url, timeout=30).read()  # noqa: S310 - loopback, our own server
    except urllib.error.HTTPError:
        pass  # a 401/302/503 answers too: the request ran through the stack


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8108)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "config.wsgi:application", "-c", "config/gunicorn.conf.py"]
        + ["--bind", f"127.0.0.1:{args.port}", "--workers", str(args.workers), "--timeout", "60"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import psutil

        deadline = time.monotonic() + 120
        while True:
            try:
                _get(f"http://127.0.0.1:{args.port}/health/live/")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        for _ in range(args.workers * 4):
            for path in PATHS:
                _get(f"http://127.0.0.1:{args.port}{path}")
        time.sleep(10)  # the warm-ups run in the background
        workers = psutil.Process(server.pid).children()
        torch = False
        for worker in workers:
            rss, pss, has_torch = _memory(worker.pid)
            torch |= has_torch
            print(f"gunicorn worker {worker.pid}: RSS {rss:.0f} MB, PSS {pss:.0f} MB, torch mapped: {has_torch}")
        rss, pss, _ = _memory(server.pid)
        print(f"gunicorn arbiter {server.pid}: RSS {rss:.0f} MB, PSS {pss:.0f} MB")
        return 1 if torch else 0
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.exit(main())
