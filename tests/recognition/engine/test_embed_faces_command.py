"""``manage.py embed_faces``: one JSON line per file, the product's templates, errors reported and skipped over."""

from __future__ import annotations

import io
import json
import shutil

import numpy as np
import pytest
from django.core.management import call_command
from PIL import Image

from recognition.engine.images import decode_image

pytestmark = [pytest.mark.faces, pytest.mark.django_db]


def test_output_format_and_templates(faces_dir, default_engine, tmp_path):
    engine = default_engine
    group = faces_dir / "dev" / "_multi" / "2008_002506.jpg"
    nested = tmp_path / "folder" / "nested"
    nested.mkdir(parents=True)
    shutil.copy(faces_dir / "dev" / "Kofi_Annan" / "Kofi_Annan_0001.jpg", nested / "kofi.jpg")
    Image.new("RGB", (120, 90), (90, 140, 200)).save(nested / "blank.png")
    (nested / "notes.txt").write_text("not an image")
    (nested / "empty.jpg").write_bytes(b"")
    missing = tmp_path / "missing.jpg"

    out = io.StringIO()
    call_command("embed_faces", str(group), str(tmp_path / "folder"), str(missing), stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    by_name = {line["path"].rsplit("/", 1)[-1]: line for line in lines}
    assert len(lines) == 6 and set(by_name) == {
        "2008_002506.jpg",
        "kofi.jpg",
        "blank.png",
        "notes.txt",
        "empty.jpg",
        "missing.jpg",
    }
    for line in lines:
        assert set(line) == {"path", "faces", "error"}

    group_line = by_name["2008_002506.jpg"]
    assert group_line["error"] is None and len(group_line["faces"]) == 3
    (expected,) = engine.analyse([decode_image(group.read_bytes(), max_pixels=engine.config.max_image_pixels)])
    for face, reference in zip(group_line["faces"], expected):
        assert set(face) == {"box", "probability", "embedding"}
        assert len(face["box"]) == 4 and 0.0 <= face["probability"] <= 1.0
        vector = np.asarray(face["embedding"], dtype=np.float32)
        assert vector.shape == (engine.embedding_size,)
        assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
        np.testing.assert_allclose(vector, reference.embedding, atol=1e-6)  # the product's template, same path

    assert by_name["kofi.jpg"]["error"] is None and len(by_name["kofi.jpg"]["faces"]) >= 1
    assert by_name["blank.png"] == {"path": str(nested / "blank.png"), "faces": [], "error": None}
    assert by_name["notes.txt"]["faces"] == [] and by_name["notes.txt"]["error"].startswith("not_an_image")
    assert by_name["empty.jpg"]["error"].startswith("empty_file")
    assert by_name["missing.jpg"]["error"].startswith("unreadable")
