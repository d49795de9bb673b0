"""Cameras and their gateway keys: the pages administrators (and the operator's DPO) use to issue,
rotate and revoke keys. Listed on governance's administration page through its registry
(``recognition.deployments.administration``). A new key is shown once, on the next page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from governance.errors import ApplicationError, NotFound, PermissionRefused
from governance.web.errors import refusals_as_pages
from recognition.deployments import access
from recognition.deployments.services.cameras import camera_issue_ingest_key, camera_revoke_ingest_key

NEW_KEY = "camera_key"


@login_required
@refusals_as_pages
def camera_list(request: HttpRequest) -> HttpResponse:
    if not access.can_manage_camera_keys(request.user):
        raise PermissionRefused("Only an administrator or the operator's data protection officer manages cameras.")
    cameras = access.cameras_administered_by(request.user).order_by("deployment__reference", "name")
    return render(
        request,
        "deployments/camera_list.html",
        {"cameras": cameras, "new_key": request.session.pop(NEW_KEY, None)},
    )


@login_required
@require_POST
@refusals_as_pages
def camera_key(request: HttpRequest, pk: int) -> HttpResponse:
    camera = access.camera_for(request.user, pk)
    action = request.POST.get("action", "")
    try:
        if action in {"issue", "rotate"}:
            secret = camera_issue_ingest_key(actor=request.user, camera=camera)
            request.session[NEW_KEY] = {"camera": str(camera), "key": secret}
            messages.success(
                request, "Key rotated: the old key no longer works." if action == "rotate" else "Key issued."
            )
        elif action == "revoke":
            camera_revoke_ingest_key(actor=request.user, camera=camera, reason=request.POST.get("reason", ""))
            messages.success(request, f"The key of {camera.name} is revoked; its frames are refused from now on.")
        else:
            raise NotFound("Unknown action.")
    except (NotFound, PermissionRefused):
        raise
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("camera-list")
