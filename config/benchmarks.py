"""Where benchmark scripts record their figures: one section each in BENCHMARKS.md.

Each script replaces only its own section (between ``<!-- bench:NAME -->`` markers), so the file
always holds the latest figures of every benchmark with the command and machine that produced them.
"""

from __future__ import annotations

import re
from pathlib import Path

BENCHMARKS_FILE = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
_HEADER = (
    "# Oversight benchmarks\n\n"
    "Figures printed by the benchmark scripts (never asserted by tests). Each section names the command and the\n"
    "machine; rerunning a script replaces its own section.\n"
)


def record_benchmark(name: str, markdown: str, *, path: Path = BENCHMARKS_FILE) -> Path:
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    section = f"{start}\n{markdown.strip()}\n{end}"
    text = path.read_text() if path.exists() else _HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text)
    return path
