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


@pytest.fixture(scope="session")
def engine(weights_path):
    """The process's engine, exactly as enrolment, live matching and the embed_faces command get it."""
    from recognition.engine.engine import get_engine

    return get_engine()
