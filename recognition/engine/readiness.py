"""The readiness check of the face engine's weights (``/health/ready/`` "weights"), registered with
governance's readiness registry: are the files of the *live* backend (after any ``switch_engine``)
present and, where pinned, the pinned bytes? Loads no model. A file's SHA-256 is computed once per
process and file version (path, size, modification time), so probes stay cheap."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=16)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_ok(path: Path, sha256: str | None) -> bool:
    try:
        stat = path.stat()
    except OSError:
        return False
    if not path.is_file() or stat.st_size == 0:
        return False
    return sha256 is None or _digest(str(path), stat.st_size, stat.st_mtime_ns) == sha256


def live_weights_ready() -> bool:
    from recognition.engine import zoo
    from recognition.engine.engine import config_for
    from recognition.selectors import live_backend_choice

    try:
        choice = live_backend_choice()
    except Exception:  # noqa: BLE001 - the cache is down: readiness names it ("cache"), not the weights
        from recognition.models import ActiveBackend

        choice = ActiveBackend.objects.filter(pk=1).values_list("choice", flat=True).first() or None
    config = config_for(choice)
    files: list[tuple[Path, str | None]] = []
    if config.detector == "yunet":
        files.append((Path(config.yunet_path or zoo.bundled_path(zoo.YUNET_FILE)), zoo.YUNET_SHA256))
    if config.embedder == "sface":
        files.append((Path(config.sface_path or zoo.bundled_path(zoo.SFACE_FILE)), zoo.SFACE_SHA256))
    if config.embedder == "facenet":
        files.append((Path(config.weights_path), None))  # converted locally; the engine checks it at load
    return all(_file_ok(path, sha256) for path, sha256 in files)
