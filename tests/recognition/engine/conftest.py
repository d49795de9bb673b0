"""Engine fixtures: the models are loaded once per test session (they take seconds to build on 2 CPU cores)."""

from __future__ import annotations

import pytest

from recognition.engine.config import load_config


@pytest.fixture(scope="session")
def weights_path():
    """The configured weights file, created by the conversion (the setup step's job) when it is not there yet."""
    from recognition.engine.weights import convert_graph, save_state_dict_atomic

    path = load_config().weights_path
    if not path.is_file():
        save_state_dict_atomic(state_dict=convert_graph(), path=path)
    return path


# Every backend the product supports; tests of behaviour common to all of them run once per backend.
BACKENDS = ("yunet+sface", "mtcnn+facenet")


@pytest.fixture(scope="session")
def default_engine(weights_path):
    """The process's engine for the configured backend, exactly as the embed_faces command gets it."""
    from recognition.engine.engine import get_engine

    return get_engine()


@pytest.fixture(scope="session", params=BACKENDS)
def engine(request, weights_path):
    """Each backend's engine, as enrolment, live matching and search get it once that backend is live."""
    from recognition.engine.engine import get_engine

    return get_engine(request.param)


@pytest.fixture(scope="session")
def facenet_engine(weights_path):
    from recognition.engine.engine import get_engine

    return get_engine("mtcnn+facenet")


@pytest.fixture(scope="session")
def sface_engine():
    from recognition.engine.engine import get_engine

    return get_engine("yunet+sface")
