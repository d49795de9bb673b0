"""A deployment's cameras and their gateways' ingest keys (issued once, kept as a digest, revocable)."""

from __future__ import annotations

import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction

from governance.audit.models import AuditAction
from governance.audit.services import audit_record
from governance.errors import StateConflict, ValidationFailed
from governance.locks import lock_rows
from governance.organisations.models import User
from recognition.deployments.access import (
    camera_check,
    deployment_check,
)
from recognition.deployments.authorisation import deployment_authorisations_void_changed
from recognition.deployments.models import (
    Camera,
    Deployment,
)


def camera_add(*, actor: User, deployment: Deployment, name: str, location: str, direction: str) -> Camera:
    deployment_check(actor, deployment, to="operate")
    with transaction.atomic():
        camera = Camera(deployment=deployment, name=name, location=location, direction=direction)
        try:
            camera.full_clean()
        except ValidationError as error:
            raise ValidationFailed("The camera is not valid.", details=error.message_dict) from error
        camera.save()
        audit_record(
            action=AuditAction.ALTERATION,
            event="camera.added",
            actor=actor,
            target=deployment,
            details={"camera": camera.pk, "name": name, "location": location, "direction": direction},
        )
        deployment_authorisations_void_changed(actor=actor, deployment=deployment, change=f"camera {name} added")
    return camera


def camera_issue_ingest_key(*, actor: User, camera: Camera) -> str:
    """Issue the camera gateway's key, or rotate it (the old key stops working at once); returns the
    secret once, keeps its digest. The operator's DPO or an administrator of the operator
    (``camera_check``)."""
    camera_check(actor, camera)
    secret = "cam_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        camera = lock_rows(Camera.objects).get(pk=camera.pk)
        rotated_from = camera.ingest_key_prefix
        camera.ingest_key_prefix = secret[:12]
        camera.ingest_key_digest = hashlib.sha256(secret.encode()).hexdigest()
        camera.save(update_fields=["ingest_key_prefix", "ingest_key_digest"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="camera.key_rotated" if rotated_from else "camera.key_issued",
            actor=actor,
            target=camera.deployment,
            details={"camera": camera.pk, "key_prefix": camera.ingest_key_prefix, "replaced": rotated_from or None},
        )
    return secret


def camera_revoke_ingest_key(*, actor: User, camera: Camera, reason: str) -> Camera:
    """Withdraw the camera gateway's key: its frames are refused (401) from the next request."""
    camera_check(actor, camera)
    if not reason.strip():
        raise ValidationFailed("Say why the key is revoked.", code="reason_required")
    with transaction.atomic():
        camera = lock_rows(Camera.objects).select_related("deployment").get(pk=camera.pk)
        if not camera.ingest_key_prefix:
            raise StateConflict("This camera has no key.", code="no_key")
        prefix = camera.ingest_key_prefix
        camera.ingest_key_prefix = ""
        camera.ingest_key_digest = ""
        camera.save(update_fields=["ingest_key_prefix", "ingest_key_digest"])
        audit_record(
            action=AuditAction.ALTERATION,
            event="camera.key_revoked",
            actor=actor,
            target=camera.deployment,
            justification=reason.strip(),
            details={"camera": camera.pk, "key_prefix": prefix},
        )
    return camera


def camera_for_ingest_key(secret: str) -> Camera | None:
    if not secret.startswith("cam_"):
        return None
    digest = hashlib.sha256(secret.encode()).hexdigest()
    camera = Camera.objects.select_related("deployment").filter(ingest_key_prefix=secret[:12]).first()
    if camera is None or not secrets.compare_digest(camera.ingest_key_digest, digest):
        return None
    return camera
