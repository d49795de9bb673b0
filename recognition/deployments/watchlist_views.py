"""Web pages of a deployment's watchlist, for the supplying force: compose it, review it, see its images.

Thin: access (``recognition.deployments.access``) → selector/service (``recognition.deployments.watchlists``)
→ render/redirect. Refusals become a message on the page; another organisation's deployment is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from governance.access import image_for
from governance.errors import ApplicationError, NotFound
from governance.inputs import is_id
from governance.watchlist.services import watchlist_image_read_bytes
from governance.web.errors import refusals_as_pages
from recognition.deployments import access
from recognition.deployments.watchlists import (
    deployment_watchlist_candidates,
    deployment_watchlist_compose,
    deployment_watchlist_entries,
    deployment_watchlist_remove,
    deployment_watchlist_review,
    deployment_watchlist_summary,
)


def _chosen_images(request: HttpRequest, allowed) -> list:
    ids = {int(value) for value in request.POST.getlist("images") if is_id(value)}  # ASCII digits ("²" is no id)
    return list(allowed.filter(pk__in=ids))


@login_required
@refusals_as_pages
def deployment_watchlist(request: HttpRequest, pk: int) -> HttpResponse:
    """The force's composition page: its entries on this deployment, the images it may add (counts)."""
    from governance.watchlist.models import WatchlistImage

    deployment = access.watchlist_deployment_for(request.user, pk, to="compose")
    user = request.user
    mine = WatchlistImage.objects.filter(access.composable_images_q(user))
    if request.method == "POST":
        try:
            if request.POST.get("action") == "remove":
                on_it = mine.filter(pk__in=deployment_watchlist_entries(deployment).values("image_id"))
                count = deployment_watchlist_remove(
                    actor=user,
                    deployment=deployment,
                    images=_chosen_images(request, on_it),
                    reason=request.POST.get("reason", ""),
                )
                messages.success(request, f"{count} image{'s' if count != 1 else ''} taken off the watchlist.")
            else:
                chosen = _chosen_images(request, mine)
                entries = deployment_watchlist_compose(actor=user, deployment=deployment, images=chosen)
                messages.success(request, f"{len(entries)} image{'s' if len(entries) != 1 else ''} added.")
        except ApplicationError as error:
            messages.error(request, error.message)
        return redirect("deployment-watchlist", deployment.pk)
    entries = (
        deployment_watchlist_entries(deployment)
        .filter(image__in=mine)
        .select_related("image", "image__supplying_organisation")
        .order_by("image__subject_reference", "pk")
    )
    return render(
        request,
        "deployments/watchlist_compose.html",
        {
            "deployment": deployment,
            "entries": entries,
            "candidates": deployment_watchlist_candidates(user, deployment),
            "summary": deployment_watchlist_summary(
                deployment, force_ids=access.watchlist_force_ids_visible_to(user, deployment)
            ),
            "can_review": access.can_review_deployment_watchlist(user, deployment),
            "show_thumbnails": access.can_see_deployment_watchlist_images(user),
        },
    )


@login_required
@refusals_as_pages
def deployment_watchlist_review_form(request: HttpRequest, pk: int) -> HttpResponse:
    """The force DPO's pre-deployment review of its entries (notes; the images are counted, not typed)."""
    deployment = access.watchlist_deployment_for(request.user, pk, to="review")
    force = request.user.organisation.force
    if request.method == "POST":
        try:
            review = deployment_watchlist_review(
                actor=request.user, deployment=deployment, notes=request.POST.get("notes", "")
            )
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect("deployment-watchlist-review", deployment.pk)
        messages.success(request, f"Watchlist review recorded: {review.image_count} images of {force}.")
        return redirect("deployment-watchlist", deployment.pk)
    summary = deployment_watchlist_summary(deployment, force_ids={force.pk})
    return render(
        request,
        "deployments/watchlist_review.html",
        {
            "deployment": deployment,
            "force": force,
            "row": summary[0] if summary else None,
            "entries": deployment_watchlist_entries(deployment)
            .filter(force=force)
            .select_related("image")
            .order_by("image__subject_reference"),
            "show_thumbnails": access.can_see_deployment_watchlist_images(request.user),
        },
    )


@login_required
@require_GET
@refusals_as_pages
def deployment_watchlist_thumbnail(request: HttpRequest, pk: int, image_pk: int) -> HttpResponse:
    """An entry's image, for the supplying side that may read image bytes (each read is audited)."""
    deployment = access.watchlist_deployment_for(request.user, pk, to="compose")
    if not deployment_watchlist_entries(deployment).filter(image_id=image_pk).exists():
        raise NotFound("No such image on this watchlist.")
    image = image_for(request.user, image_pk, to="bytes")
    data, content_type = watchlist_image_read_bytes(
        actor=request.user,
        image=image,
        justification=f"Composing and reviewing the watchlist of deployment {deployment.reference}.",
    )
    return HttpResponse(data, content_type=content_type if "/" in content_type else f"image/{content_type}")
