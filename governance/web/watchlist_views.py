"""The watchlist ledger: every image per agreement and per force, with provenance, status and history
(metadata only — no image bytes are shown); and the force submitter's web work on it: upload with
provenance and withdrawal with a reason, through the same services (and refusals) as the API."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from governance.access import can_image, can_upload_watchlist_image
from governance.agreements.models import Agreement
from governance.audit.consultation import personal_data
from governance.errors import ApplicationError, NotFound, PermissionRefused, ValidationFailed
from governance.inputs import is_id
from governance.organisations.models import Organisation, OrganisationKind
from governance.retention.certificate import certificate_erased_by
from governance.watchlist import consultation
from governance.watchlist.errors import ImageTooLarge
from governance.watchlist.models import LIVE_STATUSES, ImageStatus, TransferChannel
from governance.watchlist.selectors import (
    bulk_upload_get,
    bulk_upload_items,
    image_certificates,
    image_get,
    image_history,
    image_list,
    ledger_summary,
)
from governance.watchlist.services import (
    BulkFile,
    watchlist_image_upload,
    watchlist_image_withdraw,
)
from governance.watchlist.services import (
    watchlist_bulk_upload as bulk_upload_record,
)
from governance.watchlist.validation import max_bytes
from governance.web.errors import refusal_on_form, refusals_as_pages
from governance.web.watchlist_forms import BulkUploadForm, WatchlistUploadForm, WithdrawalForm


@login_required
@personal_data(consultation.ledger_purpose_kind)
def watchlist_ledger(request: HttpRequest) -> HttpResponse:
    agreement_id = request.GET.get("agreement", "")
    organisation = request.GET.get("organisation", "")
    status = request.GET.get("status", "")
    search = request.GET.get("q", "").strip()[:100]
    images = image_list(
        user=request.user,
        agreement_id=int(agreement_id) if is_id(agreement_id) else None,
        organisation=organisation,
        status=status if status in ImageStatus.values else "",
        search=search,
    )
    summary = ledger_summary(user=request.user)
    page = Paginator(images, 50).get_page(request.GET.get("page"))
    consultation.images_listed(request, list(page.object_list), event="watchlist.ledger_viewed")
    return render(
        request,
        "watchlist/ledger.html",
        {
            "page": page,
            "summary": summary,
            "agreements": Agreement.objects.filter(pk__in=[row["agreement_id"] for row in summary]).order_by(
                "reference"
            ),
            "forces": Organisation.objects.filter(
                kind__in=[OrganisationKind.POLICE_FORCE, OrganisationKind.POLICE_UNIT]
            ).order_by("name"),
            "statuses": ImageStatus.choices,
            "filters": {"agreement": agreement_id, "organisation": organisation, "status": status, "q": search},
            "can_upload": can_upload_watchlist_image(request.user),
        },
    )


@login_required
@personal_data(consultation.image_purpose_kind)
def watchlist_image_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        image = image_get(user=request.user, pk=pk)
    except NotFound as error:
        raise Http404(error.message) from error
    consultation.image_consulted(request, image)
    return render(
        request,
        "watchlist/image_detail.html",
        {
            "image": image,
            "history": image_history(image=image),
            # Who erased each, as its certificate says it: a person, or the sweep and its rule (never "system").
            "certificates": [
                (certificate, certificate_erased_by(certificate)) for certificate in image_certificates(image=image)
            ],
            "template": image.face_templates.order_by("-pk").first() if image.status == ImageStatus.ENROLLED else None,
            "can_withdraw": image.status in LIVE_STATUSES and can_image(request.user, image, "withdraw"),
            "withdraw_form": WithdrawalForm(),
        },
    )


@login_required
@refusals_as_pages
def watchlist_upload(request: HttpRequest) -> HttpResponse:
    """One image with its provenance: the API's service, refusals shown on the form with their sentence."""
    if not can_upload_watchlist_image(request.user):
        raise PermissionRefused("Your role cannot upload watchlist images.", code="role_cannot_upload")
    form = WatchlistUploadForm(request.POST or None, request.FILES or None, actor=request.user)
    status, retry_after = 200, None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["image"]
        try:
            if upload.size > max_bytes():  # before reading it: the service would refuse it the same way
                raise ImageTooLarge(
                    f"The image is {upload.size:,} bytes; the limit is {max_bytes():,} bytes.", code="file_too_large"
                )
            image = watchlist_image_upload(
                actor=request.user,
                agreement_id=form.cleaned_data["agreement"].pk,
                image_bytes=upload.read(),
                provenance=form.provenance(),
            )
        except (NotFound, PermissionRefused):
            raise
        except ApplicationError as error:
            refusal_on_form(form, error)
            status = error.status_code
            retry_after = getattr(error, "retry_after_seconds", None)
        else:
            messages.success(
                request,
                f"Image #{image.pk} received under {image.agreement.reference}; it is being checked, then enrolled.",
            )
            return redirect("watchlist-image-detail", pk=image.pk)
    elif request.method == "POST":
        status = 400
    response = render(request, "watchlist/upload.html", {"form": form}, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _bulk_files(form: BulkUploadForm) -> list[BulkFile]:
    """Each file with its provenance, or the refusal the form finds (no manifest line, too large to read)."""
    files = []
    for upload in form.cleaned_data["images"]:
        provenance = form.provenance_for(upload.name)
        if provenance is None:
            refusal = ValidationFailed(f"No manifest line names {upload.name}.", code="missing_provenance")
        elif upload.size > max_bytes():  # not read: the service would refuse it the same way
            refusal = ImageTooLarge(
                f"The image is {upload.size:,} bytes; the limit is {max_bytes():,} bytes.", code="file_too_large"
            )
        else:
            refusal = None
        files.append(
            BulkFile(name=upload.name, refusal=refusal)
            if refusal
            else BulkFile(
                name=upload.name,
                agreement_id=form.cleaned_data["agreement"].pk,
                image_bytes=upload.read(),
                provenance=provenance,
            )
        )
    return files


@login_required
@refusals_as_pages
def watchlist_bulk_upload(request: HttpRequest) -> HttpResponse:
    """Several images with the provenance they share and a manifest of each one's references. The request runs each
    file's cheap checks and records the bulk (issue 26); its results page then shows each file's result as the
    worker completes it."""
    if not can_upload_watchlist_image(request.user):
        raise PermissionRefused("Your role cannot upload watchlist images.", code="role_cannot_upload")
    form = BulkUploadForm(request.POST or None, request.FILES or None, actor=request.user)
    status = 200
    if request.method == "POST" and form.is_valid():
        limit = settings.OVERSIGHT_WATCHLIST_BULK_MAX_ITEMS
        if len(form.cleaned_data["images"]) > limit:
            form.add_error("images", f"At most {limit} images at a time.")
            status = 400
        else:
            bulk = bulk_upload_record(actor=request.user, files=_bulk_files(form), channel=TransferChannel.WEB)
            return redirect("watchlist-bulk-upload-detail", pk=bulk.pk)
    elif request.method == "POST":
        status = 400
    return render(request, "watchlist/bulk_upload.html", {"form": form}, status=status)


@login_required
@refusals_as_pages
@personal_data(consultation.bulk_purpose_kind)
def watchlist_bulk_upload_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A bulk upload's results, each file's read live: refused at receipt (code), checking, received, enrolled or
    rejected (code). The uploader's organisation only."""
    try:
        bulk = bulk_upload_get(user=request.user, pk=pk)
    except NotFound as error:
        raise Http404(error.message) from error
    items = bulk_upload_items(user=request.user, bulk=bulk)
    images = [item.visible_image for item in items if item.visible_image]
    consultation.images_listed(request, images, event="watchlist_bulk_upload.viewed")
    accepted = sum(1 for item in items if item.image_id)
    return render(
        request,
        "watchlist/bulk_results.html",
        {
            "bulk": bulk,
            "items": items,
            "accepted": accepted,
            "refused": len(items) - accepted,
            "checking": sum(1 for image in images if image.stage == "checking"),
        },
    )


@login_required
@require_POST
@refusals_as_pages
def watchlist_image_withdraw_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Withdraw with a reason (required): the image stops matching, its bytes and templates are erased."""
    image = image_get(user=request.user, pk=pk)
    form = WithdrawalForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationFailed(
                "Give a reason for the withdrawal; it is kept on the deletion certificate.", code="reason_required"
            )
        watchlist_image_withdraw(actor=request.user, image=image, reason=form.cleaned_data["reason"])
    except (NotFound, PermissionRefused):
        raise
    except ApplicationError as error:
        messages.error(request, f"Not withdrawn: {error.message}")
    else:
        messages.success(request, f"Image #{image.pk} withdrawn: it no longer matches; its bytes are erased.")
    return redirect("watchlist-image-detail", pk=pk)
