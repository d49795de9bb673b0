"""The DPIA's accuracy evidence comes from the committed benchmark results file, for the backend and weights the
engine runs, at every backend's default threshold; rates are written with significant figures."""

from __future__ import annotations

import json

import pytest

from governance.presentation import rate_text
from recognition.deployments import dpia
from recognition.engine.config import DETECTORS, EMBEDDERS
from recognition.engine.engine import config_for

DEFAULT_PAIRS = {"sface": "yunet", "facenet": "mtcnn"}  # each embedder with its default detector


@pytest.mark.parametrize("embedder", EMBEDDERS)
def test_every_backends_default_threshold_has_measured_evidence(embedder):
    assert DEFAULT_PAIRS[embedder] in DETECTORS
    config = config_for(f"{DEFAULT_PAIRS[embedder]}+{embedder}")
    family = dpia.evidence_family(config)
    measured = dpia.measured_evidence()
    assert family in measured, f"no results for {family}: run python -m benchmarks.dpia_evidence"
    evidence = measured[family].get(round(config.match_threshold, 2))
    assert evidence is not None, f"{family} has no figure at its default threshold {config.match_threshold}"
    assert evidence.fmr_trials > 1_000_000  # the impostor set, every pair: enough to resolve 1e-4
    assert evidence.fmr_ci[0] <= evidence.fmr_errors / evidence.fmr_trials <= evidence.fmr_ci[1]
    assert "benchmarks.dpia_evidence" in evidence.dataset


def test_the_results_file_names_its_machine_and_command():
    payload = json.loads(dpia.EVIDENCE_FILE.read_text())
    assert payload["command"].startswith("python -m benchmarks.dpia_evidence")
    assert payload["machine"]["cpu"] and payload["machine"]["cores"] >= 1


def test_without_a_results_file_nothing_is_cited(tmp_path):
    assert dpia.measured_evidence(tmp_path / "absent.json") == {}


def test_rates_keep_two_significant_figures():
    # 639 false matches in 8,276,346 pairs was shown as "0.01% (95% interval 0.01%-0.01%)".
    assert rate_text(639, 8_276_346, (7.14e-5, 8.34e-5)) == (
        "639/8,276,346 = 0.0077% (95% Wilson interval 0.0071%–0.0083%)"
    )
    assert rate_text(22, 140, (0.106, 0.226)) == "22/140 = 16% (95% Wilson interval 11%–23%)"
    assert rate_text(0, 1_582, (0.0, 0.00242)) == "0/1,582 = 0% (95% Wilson interval 0%–0.24%)"
    assert rate_text(0, 0, (0.0, 1.0)) == "not measured"
