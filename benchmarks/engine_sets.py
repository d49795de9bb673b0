"""The face sets the engine benchmarks measure on, embedded by an engine (shared by the benchmark modules).

- The dev set: ``shared/faces/dev``'s labelled photos, the centre face of each, as enrolment templates.
- The impostor set: ``shared/faces/impostors``, 4,069 people with one photo each; every pair is a false-match trial.
  Embedding it takes minutes, so a run may keep the embeddings in a cache directory, named by backend and by the live
  probes' precision (a cache of other arithmetic would measure something else).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def dev_embeddings(engine, faces_dir: Path) -> dict:
    """Templates of the dev set's labelled photos (zeros where no face was found)."""
    from recognition.engine.evaluation import central_face_index, labelled_images, load_rgb

    items = labelled_images(faces_dir)
    images = [load_rgb(item.path) for item in items]
    chosen = []
    for image, found in zip(images, engine.detect(images)):
        index = central_face_index([f.box for f in found], width=image.width, height=image.height)
        chosen.append([found[index]] if index is not None else [])
    present = [i for i, c in enumerate(chosen) if c]
    crops = engine.crops([images[i] for i in present], [chosen[i] for i in present])
    templates = np.zeros((len(items), engine.embedding_size), dtype=np.float32)
    templates[present] = engine.embed_crops(crops)
    return {"identities": [item.identity for item in items], "templates": templates, "present": present}


def impostor_embeddings_cached(engine, faces_dir: Path, cache_dir: Path | None) -> tuple[np.ndarray, int, str]:
    """(template-against-template scores of every impostor pair, people embedded, where the embeddings came from)."""
    from recognition.engine.evaluation import impostor_embeddings, impostor_paths, impostor_scores

    live = getattr(engine.embedder, "live_precision", engine.precision)
    cached = cache_dir / f"imp-{engine.config.detector}+{engine.config.embedder}-live-{live}.npz" if cache_dir else None
    if cached is not None and cached.is_file():
        data = np.load(cached)
        templates, probes, source = data["T"], data["P"], "embeddings from a cache of an earlier run"
    else:
        templates, probes, _missing = impostor_embeddings(engine, impostor_paths(faces_dir))
        source = "embedded in this run"
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            np.savez(cached, T=templates, P=probes, missing=_missing)
    template_scores, _live_scores = impostor_scores(templates, probes)
    return template_scores, len(templates), source
