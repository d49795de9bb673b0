"""Where a benchmark run's figures go: ``benchmarks/results/NAME.json`` and its section of ``BENCHMARKS.md``.

A results file holds the machine that ran it, the versions, the command, the date and the figures; the section of
``BENCHMARKS.md`` between ``<!-- bench:NAME -->`` markers is written from that file alone, so every figure in the
document has a file a committed command produced beside it. ``python -m benchmarks.results`` rewrites every section
from the committed files (after a merge, or to check that the document and the files agree).
"""

from __future__ import annotations

import json
import os
import platform
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
BENCHMARKS_FILE = ROOT / "BENCHMARKS.md"
_HEADER = (
    "# Oversight benchmarks\n\n"
    "Figures printed by the benchmark scripts (never asserted by tests). Each section is generated from its results\n"
    "file under `benchmarks/results/` and names the command and the machine that produced it.\n"
)

# Sections whose markdown is computed from the figures by a renderer registered by their benchmark module.
_RENDERERS: dict[str, Callable[[dict], str]] = {}


def machine() -> dict:
    """What ran the benchmark: CPU model and features, cores available, memory, GPU (if torch sees one)."""
    cpu, flags = "unknown CPU", ""
    try:
        text = Path("/proc/cpuinfo").read_text()
        for line in text.splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        flags = ", ".join(f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f" {f}" in text)
    except OSError:
        pass
    gpu = "none"
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        if torch.cuda.is_available():
            gpu = torch.cuda.get_device_name(0)
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cpu_features": flags,
        "cores": len(os.sched_getaffinity(0)),
        "memory_gib": round(memory, 1),
        "gpu": gpu,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def machine_text(described: dict) -> str:
    features = f" ({described['cpu_features']})" if described.get("cpu_features") else ""
    return (
        f"{described['cpu']}{features}, {described['cores']} cores available, {described['memory_gib']:g} GiB RAM; "
        f"GPU: {described['gpu']}; load average at the start {described['load_average_1m']}"
    )


def versions() -> dict:
    found = {"python": platform.python_version()}
    for module in ("django", "torch", "cv2", "numpy", "onnxruntime", "psycopg"):
        loaded = sys.modules.get(module)
        if loaded is not None and getattr(loaded, "__version__", None):
            found[module] = loaded.__version__
    return found


def results_path(name: str) -> Path:
    return RESULTS_DIR / f"{name}.json"


def record(name: str, *, command: str, figures: dict, markdown: str | None = None) -> Path:
    """Write ``benchmarks/results/NAME.json`` and regenerate NAME's section of BENCHMARKS.md from it.

    ``markdown`` is the section's body for benchmarks without a registered renderer (kept in the file, so the
    section is still written from the file alone)."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    payload = {
        "name": name,
        "command": command,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(),
        "figures": figures,
    }
    if markdown is not None:
        payload["markdown"] = markdown.strip()
    path = results_path(name)
    path.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n")
    write_section(name)
    return path


def record_markdown(name: str, markdown: str) -> Path:
    """For a benchmark whose section is written as text (its command and machine in its own lines): the text is kept
    in the results file, with the machine and versions measured here, and the section is written from the file."""
    first = next((line for line in markdown.splitlines() if "python -m " in line), "")
    found = re.search(r"python -m [^`]+", first)
    return record(name, command=found.group(0).strip() if found else "", figures={}, markdown=markdown)


def renderer(name: str):
    """Register the function that writes NAME's section from its results file's figures."""

    def register(function: Callable[[dict], str]) -> Callable[[dict], str]:
        _RENDERERS[name] = function
        return function

    return register


def section_text(payload: dict) -> str:
    name = payload["name"]
    if name not in _RENDERERS:
        # A text section names its command and machine itself; the file adds where and when it was recorded.
        return (
            payload.get("markdown", "").strip()
            + f"\n\n_Results file `benchmarks/results/{name}.json`, recorded {payload['date']} on "
            f"{machine_text(payload['machine'])}._"
        )
    body = _RENDERERS[name](payload["figures"])
    head = (
        f"- Command: `{payload['command']}`\n"
        f"- Machine: {machine_text(payload['machine'])}\n"
        f"- Versions: {', '.join(f'{k} {v}' for k, v in sorted(payload['versions'].items()))}\n"
        f"- Run: {payload['date']} (results file `benchmarks/results/{name}.json`)\n"
    )
    # The body's first line may be its heading; the run's facts go right under it.
    lines = body.strip().splitlines()
    if lines and lines[0].startswith("#"):
        return "\n".join([lines[0], "", head.rstrip(), *lines[1:]])
    return head + "\n" + body.strip()


def write_section(name: str, *, path: Path = BENCHMARKS_FILE) -> Path:
    payload = json.loads(results_path(name).read_text())
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    section = f"{start}\n{section_text(payload).strip()}\n{end}"
    text = path.read_text() if path.exists() else _HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text)
    return path


def main() -> None:
    import importlib

    # Run as ``python -m benchmarks.results`` this file is ``__main__``; the benchmark modules register their
    # renderers with ``benchmarks.results``, so that module's registry and writer are the ones to use.
    shared = importlib.import_module("benchmarks.results")
    for results in sorted(RESULTS_DIR.glob("*.json")):
        name = results.stem
        module = name.replace("-", "_")
        try:
            importlib.import_module(f"benchmarks.{module}")  # registers its renderer, if it has one
        except ModuleNotFoundError:
            pass
        if name not in shared._RENDERERS and "markdown" not in json.loads(results.read_text()):
            print(f"{name}: no renderer and no text: rerun python -m benchmarks.{module}")
            continue
        shared.write_section(name)
        print(f"{name}: section rewritten from {results.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
