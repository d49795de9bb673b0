"""``python manage.py embed_faces PATH...``: one JSON line per image with every face and its template.

The embeddings are exactly the product's templates (``FaceEngine.analyse``: same detector settings, crop margin, flip
averaging and precision), so this command is how an auditor or a subject-access search reproduces what the product
computed. It prints biometric data to stdout by design and logs nothing about faces.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


def iter_image_paths(paths: list[Path]) -> Iterator[Path]:
    """Files as given, and every file of folders searched recursively (sorted, hidden files skipped). Non-image files
    are yielded too, so that each is reported with an error line instead of being skipped silently."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        else:
            yield path


class Command(BaseCommand):
    help = "Detect and embed every face in the given images (files or folders, recursively); JSON lines on stdout."

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, help="Image files or folders (searched recursively).")

    def handle(self, *args, paths: list[Path], **options) -> None:
        from recognition.engine.images import ImageRejected, decode_image
        from recognition.engine.weights import WeightsError
        from recognition.selectors import live_engine

        try:
            engine = live_engine()  # the live backend's templates (after a switch_engine, not the settings' pair)
        except WeightsError as exc:
            raise CommandError(str(exc)) from exc
        for path in iter_image_paths(paths):
            record: dict = {"path": str(path), "faces": [], "error": None}
            try:
                image = decode_image(path.read_bytes(), max_pixels=engine.config.max_image_pixels)
                (faces,) = engine.analyse([image])
                record["faces"] = [
                    {
                        "box": [round(v, 2) for v in face.box],
                        "probability": round(face.probability, 6),
                        "embedding": [float(x) for x in face.embedding],
                    }
                    for face in faces
                ]
            except ImageRejected as exc:
                record["error"] = f"{exc.code}: {exc.message}"
            except OSError as exc:  # missing file, permission denied, a directory vanished mid-walk
                record["error"] = f"unreadable: {exc.strerror or type(exc).__name__}"
            self.stdout.write(json.dumps(record))
            self.stdout.flush()
