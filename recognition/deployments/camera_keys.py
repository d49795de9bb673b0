"""Issuing a camera's gateway key where that cuts off a running camera (issue 25): the rule, named once.

Issuing a key to a camera that already has one rotates it, and the old key stops working at once
(``camera_issue_ingest_key``). On a live deployment that cuts off the camera that is running:
no frames, no alerts, until its gateway is given the new key. So the operator confirms, having been told
that, before the key is rotated; the rotation itself is audited as before (``camera.key_rotated``).
"""

from __future__ import annotations

from governance.errors import StateConflict
from governance.organisations.models import User
from recognition.deployments.models import Camera, DeploymentStatus
from recognition.deployments.services.cameras import camera_issue_ingest_key

CONFIRMATION_REQUIRED = "live_camera_key_confirmation_required"


def key_issue_cuts_off_live_camera(camera: Camera) -> bool:
    """A new key for this camera would stop a running camera: it has a key and its deployment is live."""
    return bool(camera.ingest_key_prefix) and camera.deployment.status == DeploymentStatus.LIVE


def camera_key_consequence(camera: Camera) -> str:
    return (
        f"Camera {camera.name} at {camera.deployment.reference} is live. Issuing a new key rotates its key: the "
        "key its gateway uses stops working at once, so the camera sends no frames and raises no alerts until "
        "the gateway is configured with the new key."
    )


def camera_key_issue_confirmed(*, actor: User, camera: Camera, confirmed: bool) -> str:
    """Issue (or rotate) the camera's key; refuses (``live_camera_key_confirmation_required``) to cut off a
    live camera unless the operator confirmed having been told the consequence. Permission, transaction
    and audit: ``camera_issue_ingest_key``."""
    if key_issue_cuts_off_live_camera(camera) and not confirmed:
        raise StateConflict(camera_key_consequence(camera), code=CONFIRMATION_REQUIRED)
    return camera_issue_ingest_key(actor=actor, camera=camera)
