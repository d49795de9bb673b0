"""Steps other apps add to the King's Cross scenario (``manage.py load_scenario``), so governance's
command never imports them (ARCHITECTURE.md): recognition registers the live deployment.

A step is ``run(scenario) -> None``, called after governance's part has committed, in ``order``.
``scenario`` is a ``ScenarioContext``: the organisations and users by short name / username, the
agreement the deployment matches under, the DPIA covering it, whether enrolment has finished, and
``say`` for telling the person running the command what to do next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from governance.registry import Registry


@dataclass(frozen=True)
class ScenarioContext:
    organisations: dict[str, Any]
    users: dict[str, Any]
    current_agreement: Any
    dpia: Any
    enrolment_finished: Callable[[], bool]
    say: Callable[[str], None]


@dataclass(frozen=True)
class ScenarioStep:
    name: str
    run: Callable[[ScenarioContext], None]
    order: int = 100


_STEPS: Registry[ScenarioStep] = Registry("scenario step")


def scenario_step_register(step: ScenarioStep) -> ScenarioStep:
    return _STEPS.register(step.name, step)


def scenario_steps() -> list[ScenarioStep]:
    return sorted(_STEPS.values(), key=lambda step: (step.order, step.name))
