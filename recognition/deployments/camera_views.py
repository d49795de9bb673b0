"""Cameras and their gateway keys: the pages administrators (and the operator's DPO) use to issue,
rotate and revoke keys. Listed on governance's administration page through its registry
(``recognition.deployments.administration``). A new key is shown once, on the next page. A new key for a
live camera is issued only after a confirmation page says that it cuts the camera off
(``recognition.deployments.camera_keys``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from governance.errors import ApplicationError, NotFound, PermissionRefused
from governance.web.errors import refusals_as_pages
from recognition.deployments import access, camera_keys
from recognition.deployments.services.cameras import camera_revoke_ingest_key

NEW_KEY = "camera_key"
# Where the confirmation page returns to: the camera list, or the deployment page it was asked from.
BACK_TO = {"cameras", "deployment"}


def camera_key_confirmation_redirect(camera, back: str) -> HttpResponse:
    """To the page that asks the operator to confirm cutting off a live camera (``camera_key_confirm``)."""
    return redirect(f"{reverse('camera-key-confirm', args=[camera.pk])}?back={back}")


def _back(camera, back: str) -> HttpResponse:
    return redirect("deployment-detail", camera.deployment_id) if back == "deployment" else redirect("camera-list")


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
    back = request.POST.get("back") if request.POST.get("back") in BACK_TO else "cameras"
    try:
        if action in {"issue", "rotate"}:
            secret = camera_keys.camera_key_issue_confirmed(
                actor=request.user, camera=camera, confirmed=request.POST.get("confirm") == "yes"
            )
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
        if error.code == camera_keys.CONFIRMATION_REQUIRED:
            return camera_key_confirmation_redirect(camera, back)
        messages.error(request, error.message)
    return _back(camera, back)


@login_required
@require_GET
@refusals_as_pages
def camera_key_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Before a live camera's key is rotated: what it does to the running camera, and a button to go on."""
    camera = access.camera_for(request.user, pk)
    back = request.GET.get("back") if request.GET.get("back") in BACK_TO else "cameras"
    if not camera_keys.key_issue_cuts_off_live_camera(camera):
        return _back(camera, back)  # nothing to confirm: the list or page issues the key directly
    return render(
        request,
        "deployments/camera_key_confirm.html",
        {"camera": camera, "consequence": camera_keys.camera_key_consequence(camera), "back": back},
    )
