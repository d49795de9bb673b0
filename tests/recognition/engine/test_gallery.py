"""Gallery: exact top-k, replacement, and removal that takes effect at once."""

from __future__ import annotations

import numpy as np
import pytest

from recognition.engine.gallery import Gallery


def _unit(rng, n):
    v = rng.standard_normal((n, 512)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_top_k_equals_fp32_brute_force_over_stored_templates():
    rng = np.random.default_rng(1)
    vectors = _unit(rng, 5000)
    gallery = Gallery(scope="s")
    gallery.add(ids=np.arange(10_000, 15_000), vectors=vectors)
    stored = vectors.astype(np.float16).astype(np.float32)
    stored /= 1.0  # the stored rows are the fp16-rounded unit vectors
    probes = _unit(rng, 20)
    ids, scores = gallery.search(probes, k=5)
    brute = probes @ stored.T
    for row in range(len(probes)):
        expected = np.argsort(-brute[row])[:5] + 10_000
        assert list(ids[row]) == list(expected)
        np.testing.assert_allclose(scores[row], np.sort(brute[row])[::-1][:5], atol=1e-5)


def test_near_duplicate_templates_are_ranked_exactly():
    """Many templates within fp16 rounding of each other: the candidate expansion must still return the true best."""
    rng = np.random.default_rng(2)
    base = _unit(rng, 1)[0]
    noise = rng.standard_normal((300, 512)).astype(np.float32) * 1e-4
    vectors = base + noise
    gallery = Gallery()
    gallery.add(ids=np.arange(300), vectors=vectors)
    stored = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float16).astype(np.float32)
    ids, _ = gallery.search(base[None], k=3)
    assert list(ids[0]) == list(np.argsort(-(stored @ base))[:3])


def test_removed_ids_are_never_returned_and_adding_an_id_again_replaces_it():
    rng = np.random.default_rng(3)
    vectors = _unit(rng, 50)
    gallery = Gallery()
    gallery.add(ids=np.arange(50), vectors=vectors)
    assert gallery.remove(ids=[7, 49, 12345]) == 2
    assert len(gallery) == 48
    ids, scores = gallery.search(vectors[[7, 49]], k=60)
    for row in ids:
        assert 7 not in row and 49 not in row
        assert (row == -1).sum() == 12  # fewer templates than k: padded with -1
    assert np.all(np.isneginf(scores[:, -12:]))
    # Row 49 was the last row; row 7's slot now holds another template, which must still be found exactly.
    ids, scores = gallery.search(vectors[[48]], k=1)
    assert ids[0, 0] == 48 and scores[0, 0] == pytest.approx(1.0, abs=1e-3)
    gallery.add(ids=[3], vectors=vectors[[10]])
    ids, _ = gallery.search(vectors[[10]], k=2)
    assert set(ids[0]) == {3, 10}


def test_rejects_bad_templates():
    gallery = Gallery()
    with pytest.raises(ValueError):
        gallery.add(ids=[1], vectors=np.zeros((1, 512), dtype=np.float32))
    with pytest.raises(ValueError):
        gallery.add(ids=[1, 1], vectors=np.ones((2, 512), dtype=np.float32))
    with pytest.raises(ValueError):
        gallery.add(ids=[1], vectors=np.full((1, 512), np.nan, dtype=np.float32))
    assert len(gallery) == 0
    ids, scores = gallery.search(np.ones((1, 512), dtype=np.float32), k=2)
    assert list(ids[0]) == [-1, -1]
