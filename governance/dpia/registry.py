"""What a DPIA needs to know about deployments, supplied by recognition (governance does not import it).

Recognition registers one ``DeploymentSource`` in its ``AppConfig.ready()``
(``recognition.deployments.dpia``). Governance asks it to describe a deployment (the data and its
lifecycle, computed, never retyped into the DPIA), for the weights the engine is running now, and
for the engine's measured accuracy at a threshold — the evidence a DPIA cites.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from governance.registry import Registry


@dataclass(frozen=True)
class DeploymentFacts:
    pk: int
    reference: str
    name: str
    operator_id: int
    supplier_ids: frozenset[int]
    agreement_references: frozenset[str]
    status: str
    threshold: float
    lifecycle: list[tuple[str, str]] = field(default_factory=list)  # (label, value) lines for the DPIA


@dataclass(frozen=True)
class AccuracyEvidence:
    """The engine's own figures at one threshold (errors / trials, 95% Wilson intervals)."""

    threshold: float
    fmr_errors: int
    fmr_trials: int
    fmr_ci: tuple[float, float]
    fnmr_errors: int
    fnmr_trials: int
    fnmr_ci: tuple[float, float]
    dataset: str

    @property
    def fmr_text(self) -> str:
        from governance.presentation import rate_text

        return rate_text(self.fmr_errors, self.fmr_trials, self.fmr_ci)

    def as_json(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "fmr_errors": self.fmr_errors,
            "fmr_trials": self.fmr_trials,
            "fmr_ci": list(self.fmr_ci),
            "fnmr_errors": self.fnmr_errors,
            "fnmr_trials": self.fnmr_trials,
            "fnmr_ci": list(self.fnmr_ci),
            "dataset": self.dataset,
        }


@dataclass(frozen=True)
class DeploymentSource:
    describe: Callable[[int], DeploymentFacts | None]
    operated_by: Callable[[int], list[DeploymentFacts]]  # deployments an operator runs (for the form)
    running_weights: Callable[[], tuple[str, str]]  # (sha256, label) of the weights the engine runs now
    evidence_at: Callable[[float], AccuracyEvidence | None]
    # How the false-match rate moves across thresholds near the operating one (the cost of lowering it).
    evidence_curve: Callable[[], list[AccuracyEvidence]] = field(default=list)


# One slot: the source registered last is the one asked.
_SOURCE: Registry[DeploymentSource] = Registry("deployment source", replace=True)


def deployment_source_register(source: DeploymentSource) -> DeploymentSource:
    return _SOURCE.register("deployments", source)


def deployment_source() -> DeploymentSource | None:
    return _SOURCE.get("deployments")
