"""Report pages, PDFs and CSVs. Thin: selector → document. The published report is public."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from governance.access import agreements_visible_to, is_regulator
from governance.errors import ApplicationError, NotFound, PermissionRefused
from governance.inputs import is_id
from governance.organisations.models import Organisation, OrganisationKind
from governance.reports.access import (
    can_comment_on_self_assessment,
    can_publish_transparency_report,
    can_read_reports,
)
from governance.reports.documents import report_context, report_csv, report_pdf, sections_from_json
from governance.reports.pack import PRINCIPLES, principle_commentary_set, regulator_pack
from governance.reports.ropa import ropa_controller_for, ropa_controllers_for, ropa_report
from governance.reports.selectors import (
    Report,
    published_report_by_slug,
    published_reports_of,
    quarter_of,
    report_for,
    transparency_operator_for,
    transparency_report,
)
from governance.reports.services import transparency_report_publish
from governance.web.errors import refusals_as_pages


def _respond(
    request: HttpRequest,
    report: Report,
    fmt: str,
    *,
    base_url: str,
    filename: str,
    extra: dict | None = None,
    template: str = "reports/report.html",
    generated_at: datetime | None = None,
    landscape: bool = False,
) -> HttpResponse:
    if fmt == "pdf":
        pdf = report_pdf(
            title=report.title,
            subtitle=report.subtitle,
            sections=report.sections,
            generated_at=generated_at,
            landscape=landscape,
        )
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{filename}.pdf"'
        return response
    if fmt == "csv":
        response = HttpResponse(report_csv(title=report.title, sections=report.sections), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
        return response
    if fmt != "html":
        raise Http404("No such format.")
    context = report_context(
        title=report.title, subtitle=report.subtitle, sections=report.sections, generated_at=generated_at
    )
    sep = "&" if "?" in base_url else "?"
    context["downloads"] = [("PDF", f"{base_url}{sep}format=pdf"), ("CSV (every table)", f"{base_url}{sep}format=csv")]
    context.update(extra or {})
    return render(request, template, context)


@login_required
@refusals_as_pages
def report_index(request: HttpRequest) -> HttpResponse:
    if not can_read_reports(request.user):
        return render(
            request, "errors/403.html", {"message": "Your role cannot read accountability reports."}, status=403
        )
    organisation = request.user.organisation
    operators = (
        Organisation.objects.filter(kind=OrganisationKind.OPERATOR).order_by("name")
        if is_regulator(request.user)
        else [organisation]
        if organisation.kind == OrganisationKind.OPERATOR
        else []
    )
    published = published_reports_of(None if is_regulator(request.user) else organisation)
    from governance.reports.registry import report_subject

    deployment_kind = report_subject("deployment")
    return render(
        request,
        "reports/index.html",
        {
            "agreements": agreements_visible_to(request.user).order_by("-starts_on"),
            "deployments_available": deployment_kind is not None,
            "operators": operators,
            "published": published[:40],
        },
    )


@login_required
@refusals_as_pages
def subject_report(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    report = report_for(request.user, kind, pk)
    return _respond(
        request,
        report,
        request.GET.get("format", "html"),
        base_url=reverse("report-subject", args=[kind, pk]),
        filename=f"{kind}-report-{pk}",
    )


@login_required
@refusals_as_pages
def transparency_preview(request: HttpRequest) -> HttpResponse:
    """An operator's own report this quarter; the regulator picks an operator on the reports page."""
    if is_regulator(request.user) and not request.GET.get("organisation"):
        return redirect("report-index")
    operator = transparency_operator_for(request.user, request.GET.get("organisation"))
    start, end = quarter_of(timezone.now())
    report = transparency_report(actor=request.user, operator=operator, start=start, end=end)
    can_publish = can_publish_transparency_report(request.user, operator)
    return _respond(
        request,
        report,
        request.GET.get("format", "html"),
        base_url=reverse("report-transparency")
        + (f"?organisation={operator.pk}" if is_regulator(request.user) else ""),
        filename="transparency-preview",
        extra={"publish_url": reverse("report-transparency-publish") if can_publish else None},
    )


@login_required
@require_POST
@refusals_as_pages
def transparency_publish(request: HttpRequest) -> HttpResponse:
    operator = transparency_operator_for(request.user)
    start, end = quarter_of(timezone.now())
    published = transparency_report_publish(actor=request.user, operator=operator, start=start, end=end)
    messages.success(request, "Published. The public address is shown below.")
    return redirect("report-published", slug=published.slug)


def published_report(request: HttpRequest, slug: str) -> HttpResponse:
    """Public, no sign-in: the frozen snapshot (figures only)."""
    try:
        published = published_report_by_slug(slug)
    except NotFound as error:
        raise Http404(error.message) from error
    start = timezone.localtime(published.period_start)
    last_day = timezone.localtime(published.period_end) - timedelta(days=1)
    report = Report(
        kind=published.kind,
        title=published.title,
        subtitle=f"{start:%d %b %Y} to {last_day:%d %b %Y} · published "
        f"{timezone.localtime(published.published_at):%d %b %Y}",
        sections=sections_from_json(published.content),
    )
    return _respond(
        request,
        report,
        request.GET.get("format", "html"),
        base_url=reverse("report-published", args=[slug]),
        filename=f"transparency-{published.period_start:%Y-%m}",
        template="reports/published.html",
        generated_at=published.published_at,
        extra={"door_controller": published.organisation},
    )


@login_required
@refusals_as_pages
def regulator_pack_view(request: HttpRequest) -> HttpResponse:
    report = regulator_pack(request.user)
    can_comment = can_comment_on_self_assessment(request.user)
    return _respond(
        request,
        report,
        request.GET.get("format", "html"),
        base_url=reverse("report-regulator-pack"),
        filename="regulator-pack",
        template="reports/pack.html",
        extra={"can_comment": can_comment, "principles": PRINCIPLES.items()},
        landscape=True,
    )


@login_required
@require_POST
@refusals_as_pages
def principle_commentary(request: HttpRequest) -> HttpResponse:
    if not can_comment_on_self_assessment(request.user):
        raise PermissionRefused("Only an organisation's data protection officer writes its commentary.")
    principle = int(request.POST["principle"]) if is_id(request.POST.get("principle", "")) else 0
    try:
        principle_commentary_set(actor=request.user, principle=principle, text=request.POST.get("text", ""))
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Commentary on principle {principle} saved.")
    return redirect("report-regulator-pack")


@login_required
@refusals_as_pages
def ropa_view(request: HttpRequest) -> HttpResponse:
    """The record of processing activities: one's own controller's; the regulator picks any."""
    organisation_id = request.GET.get("organisation")
    if is_regulator(request.user) and not organisation_id:
        return render(request, "reports/ropa_index.html", {"controllers": ropa_controllers_for(request.user)})
    controller = ropa_controller_for(request.user, organisation_id)
    base_url = reverse("report-ropa") + (f"?organisation={controller.pk}" if is_regulator(request.user) else "")
    return _respond(
        request,
        ropa_report(actor=request.user, controller=controller),
        request.GET.get("format", "html"),
        base_url=base_url,
        filename=f"record-of-processing-{controller.short_name}",
    )
