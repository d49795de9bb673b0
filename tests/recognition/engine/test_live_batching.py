"""Live micro-batching on the real engines and the dev faces: frames matched at the same moment by several threads
share one pass, and each thread gets exactly the faces and probes its own frame has alone."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from recognition.engine.detector import DetectedFace
from recognition.engine.evaluation import load_rgb
from recognition.engine.live_batching import LiveBatcher

pytestmark = pytest.mark.faces


def _frames(faces_dir) -> list:
    """The three annotated group photos (7, 3 and 7 faces), a no-face photo, and two solo portraits, twice over."""
    dev = faces_dir / "dev"
    group = sorted({row.split(",")[0] for row in (faces_dir / "multi_face_boxes.csv").read_text().splitlines()[1:]})
    paths = [dev / name for name in group]
    paths += [sorted((dev / "_none").glob("*.jpg"))[0]]
    paths += sorted((dev / "Kofi_Annan").glob("*.jpg"))[:1] + sorted((dev / "Serena_Williams").glob("*.jpg"))[:1]
    return [load_rgb(path) for path in paths] * 2


def _concurrently(fn, items: list) -> list:
    """``fn(item)`` for every item, each in its own thread, all released at once."""
    results: list = [None] * len(items)
    errors: list = []
    start = threading.Barrier(len(items))

    def run(n: int) -> None:
        start.wait()
        try:
            results[n] = fn(items[n])
        except Exception as error:  # noqa: BLE001 - reported below with its frame
            errors.append((n, error))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(items))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    return results


def _same_boxes(faces, expected) -> None:
    assert len(faces) == len(expected)
    if expected:
        boxes, wanted = np.array([f.box for f in faces]), np.array([f.box for f in expected])
        assert np.abs(boxes - wanted).max() <= 0.5, (boxes, wanted)


@pytest.fixture
def batching(engine):
    """The engine batching live frames for one test (passes wait up to 250 ms for company, so that frames released
    together always share one), and back to the configured behaviour afterwards."""
    configured, wait = engine.live_batch_frames, engine.config.live_batch_wait_ms
    engine.set_live_batching(8, max_wait_ms=250)
    yield engine.live_batcher()
    engine.set_live_batching(configured, max_wait_ms=wait)


def test_frames_of_several_threads_share_passes_and_each_gets_its_own_faces(engine, faces_dir, batching):
    frames = _frames(faces_dir)
    alone = [engine.analyse([frame], live=True)[0] for frame in frames]
    assert sorted(len(faces) for faces in alone[:3]) == [3, 7, 7] and alone[3] == []

    batched = _concurrently(engine.analyse_live, frames)

    for own, shared in zip(alone, batched, strict=True):
        _same_boxes(shared, own)
        if own:
            cosines = np.sum(np.stack([f.embedding for f in own]) * np.stack([f.embedding for f in shared]), axis=1)
            assert cosines.min() > 0.995, cosines  # the same probe, whatever else was in the pass
    figures = batching.figures
    with_faces = sum(1 for faces in alone if faces)
    # Frames with a face went through the batcher, several to a pass; a frame without one never waited for it
    # where the detector runs in the caller's thread.
    expected = with_faces if batching.detect_in_caller else len(frames)
    assert figures.frames == expected
    assert figures.largest >= 2 and figures.passes < figures.frames


def test_frames_detected_together_in_the_pass_get_the_same_faces(engine, faces_dir):
    """The GPU's arrangement for MTCNN (detection batched in the pass, not in each thread), run here on the CPU for
    both backends: the pass detects the waiting frames together and each still gets its own faces."""
    frames = _frames(faces_dir)[:6]
    alone = [engine.analyse([frame], live=True)[0] for frame in frames]
    batcher = LiveBatcher(engine, max_frames=8, max_wait=0.25, detect_in_pass=True)
    try:
        batched = _concurrently(batcher.analyse, frames)
    finally:
        batcher.stop()
    for own, shared in zip(alone, batched, strict=True):
        _same_boxes(shared, own)
    assert batcher.figures.frames == len(frames) and batcher.figures.largest >= 2  # no-face frames too


def test_a_frame_that_fails_in_a_pass_fails_alone(engine, faces_dir, batching):
    """A frame whose pass raises is matched again on its own, and only it gets the error: the other frames of the
    pass get their faces (here a detection whose landmarks cannot be aligned, which SFace's alignment refuses, or
    a box outside the picture, which FaceNet's crop refuses)."""
    from recognition.engine.live_batching import _Frame

    good = _frames(faces_dir)[0]
    broken = good.crop((0, 0, 4, 4)) if engine.detector_name == "mtcnn" else np.zeros((4, 4, 3), dtype=np.uint8)
    impossible = DetectedFace(box=(np.nan, np.nan, np.nan, np.nan), probability=0.99, landmarks=((np.nan, 0.0),) * 2)
    own = engine.analyse([good], live=True)[0]

    def submit(item):
        if item == "broken":
            frame = _Frame(pixels=broken, faces=[impossible])
            batching._queue.put(frame)
            return frame.result.exception(timeout=60)
        return batching.analyse(good)

    results = _concurrently(submit, ["broken", "good", "good"])
    assert isinstance(results[0], Exception)
    for faces in results[1:]:
        assert len(faces) == len(own)
    assert batching.figures.retried_alone >= 2


def test_stopping_a_batcher_answers_what_it_holds_first(engine, faces_dir):
    batcher = LiveBatcher(engine, max_frames=4, max_wait=0.2)
    frame = _frames(faces_dir)[0]
    results = _concurrently(batcher.analyse, [frame, frame])
    batcher.stop()
    assert all(len(faces) == len(results[0]) > 0 for faces in results)
    assert not batcher._thread.is_alive()


def test_batching_is_off_on_a_cpu_unless_configured(engine):
    """Chosen by measurement (BENCHMARKS.md, "Live micro-batching"): on a CPU each thread runs its own frame."""
    from recognition.engine.config import load_config

    if engine.device.type == "cpu" and load_config().live_batch_frames is None:
        assert engine.live_batch_frames == 1
    elif engine.device.type == "cuda" and load_config().live_batch_frames is None:
        assert engine.live_batch_frames == 16
    with pytest.raises(ValueError):
        LiveBatcher(engine, max_frames=1)
