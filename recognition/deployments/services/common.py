"""What the deployment services share: the actor's name as audited, the minimum length of a written justification,
and the locked deployment that a change to an unfinished deployment starts from."""

from __future__ import annotations

from governance.errors import StateConflict
from governance.locks import lock_rows
from governance.organisations.models import User
from recognition.deployments.models import Deployment, DeploymentStatus

MIN_TEXT_CHARS = 10


def actor_name(actor: User | None) -> str:
    return (actor.get_full_name() or actor.get_username()) if actor else "system"


def text_required(value: str, field: str, message: str, errors: dict[str, list[str]]) -> None:
    if len((value or "").strip()) < MIN_TEXT_CHARS:
        errors.setdefault(field, []).append(message)


def deployment_locked_unended(deployment: Deployment) -> Deployment:
    """The deployment's row, locked for the caller's transaction (``governance.locks.lock_rows``); an ended
    deployment takes no more changes to its watchlist or its authorisations (``StateConflict``,
    ``deployment_ended``)."""
    deployment = lock_rows(Deployment.objects).get(pk=deployment.pk)
    if deployment.status == DeploymentStatus.ENDED:
        raise StateConflict("The deployment has ended.", code="deployment_ended")
    return deployment
