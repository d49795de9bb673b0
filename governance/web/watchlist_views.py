"""The DPO's watchlist ledger: every image per agreement and per force, with provenance, status and
history. Read-only pages (forces act through the API); metadata only — no image bytes are shown."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from governance.agreements.models import Agreement
from governance.audit.consultation import personal_data
from governance.errors import NotFound
from governance.inputs import is_id
from governance.organisations.models import Organisation, OrganisationKind
from governance.watchlist import consultation
from governance.watchlist.models import ImageStatus
from governance.watchlist.selectors import image_certificates, image_get, image_history, image_list, ledger_summary


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
            "certificates": image_certificates(image=image),
            "template": image.face_templates.order_by("-pk").first() if image.status == ImageStatus.ENROLLED else None,
        },
    )
