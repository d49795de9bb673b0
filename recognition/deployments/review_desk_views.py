"""The live review desk's own routes (``recognition.deployments.review_desk``): the queue's thumbnails and
the operator DPO's review service level. The queue page and its JSON poll are in ``views``."""

from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from governance.errors import ApplicationError, NotFound, PermissionRefused
from governance.web.errors import refusals_as_pages
from recognition.deployments import access, review_desk
from recognition.deployments.views import alert_jpeg


@login_required
@require_GET
@refusals_as_pages
def alert_queue_thumbnail(request: HttpRequest, pk: int, image: str) -> HttpResponse:
    """A queue thumbnail of the crop or of the enrolled face, for a reviewer who may see that image on the
    alert page (404 for an alert they cannot see, 403 for an image they may not); no-store, recorded."""
    return alert_jpeg(
        request,
        pk,
        to="crop" if image == "crop" else "thumbnail",
        read=partial(review_desk.alert_queue_thumbnail, image=image),
    )


@login_required
@require_POST
@refusals_as_pages
def deployment_review_service_level(request: HttpRequest, pk: int) -> HttpResponse:
    deployment = access.deployment_for(request.user, pk)
    try:
        deployment = review_desk.deployment_review_service_level_set(
            actor=request.user, deployment=deployment, minutes=request.POST.get("minutes", "")
        )
    except (NotFound, PermissionRefused):
        raise
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"Review service level set: {deployment.review_service_level_minutes} minutes per alert."
        )
    return redirect("deployment-detail", deployment.pk)
