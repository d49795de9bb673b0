"""Retention dashboard, legal holds and deletion certificates (DPO pages). Thin views."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from governance.access import can_place_hold, can_release_hold, hold_for, is_regulator
from governance.errors import ApplicationError
from governance.presentation.widgets import DateTimeLocalInput
from governance.retention.certificate import certificate_erased_by
from governance.retention.documents import certificates_render_pdf
from governance.retention.selectors import (
    certificate_as_dict,
    deletion_certificate_get,
    deletion_certificates,
    hold_target_choices,
    retention_run_get,
    retention_status,
)
from governance.retention.services import legal_hold_place, legal_hold_release
from governance.web.errors import refusals_as_pages


class LegalHoldForm(forms.Form):
    target = forms.ChoiceField(label="What the hold covers", help_text="Only records your organisation is party to.")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    until = forms.DateTimeField(required=False, widget=DateTimeLocalInput())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [("", "Choose…"), *hold_target_choices(user=user)]


class ReleaseForm(forms.Form):
    reason = forms.CharField(max_length=2000)


@login_required
@refusals_as_pages
def retention_dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    status = retention_status(user=user)
    can_hold = can_place_hold(user)
    return render(
        request,
        "retention/dashboard.html",
        {
            **status,
            "hold_form": LegalHoldForm(user=user) if can_hold else None,
            "release_form": ReleaseForm(),
            "holds": [(h, can_release_hold(user, h)) for h in status["holds"]],
            "certificates": [(c, certificate_erased_by(c)) for c in deletion_certificates(user=user)[:25]],
            "can_hold": can_hold,
        },
    )


@login_required
@require_POST
@refusals_as_pages
def legal_hold_create(request: HttpRequest) -> HttpResponse:
    form = LegalHoldForm(request.POST, user=request.user)
    try:
        if not form.is_valid():
            raise ApplicationError("Legal hold: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()))
        legal_hold_place(actor=request.user, **form.cleaned_data)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, "Legal hold placed: erasure of what it covers is blocked until it is released or lapses."
        )
    return redirect("retention-dashboard")


@login_required
@require_POST
@refusals_as_pages
def legal_hold_end(request: HttpRequest, pk: int) -> HttpResponse:
    form = ReleaseForm(request.POST)
    hold = hold_for(request.user, pk, to="release")
    try:
        if not form.is_valid():
            raise ApplicationError("Give the reason for releasing the hold.")
        legal_hold_release(actor=request.user, hold=hold, reason=form.cleaned_data["reason"])
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Legal hold released.")
    return redirect("retention-dashboard")


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _require_format(fmt: str) -> None:
    """The URL's extension is the file's type: .pdf or .json, nothing else (a .csv served a PDF)."""
    if fmt not in {"pdf", "json"}:
        raise Http404("No such format.")


@login_required
@refusals_as_pages
def certificate_download(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    _require_format(fmt)
    certificate = deletion_certificate_get(user=request.user, pk=pk)
    if fmt == "json":
        return JsonResponse(certificate_as_dict(certificate), json_dumps_params={"indent": 2})
    pdf = certificates_render_pdf(certificates=[certificate], title=f"Deletion certificate #{certificate.pk}")
    return _pdf_response(pdf, f"deletion-certificate-{certificate.pk}.pdf")


@login_required
@refusals_as_pages
def run_certificates_download(request: HttpRequest, run_id: str, fmt: str) -> HttpResponse:
    _require_format(fmt)
    run = retention_run_get(user=request.user, run_id=run_id)
    certificates = list(deletion_certificates(user=request.user, run_id=str(run.run_id)))
    if fmt == "json":
        return JsonResponse(
            {
                "run": str(run.run_id),
                "started_at": run.started_at.isoformat(),
                "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                "status": run.status,
                # The run's totals cover every organisation: regulators only; others get their certificates.
                **(
                    {"erased_counts": run.erased_counts, "held_counts": run.held_counts}
                    if is_regulator(request.user)
                    else {}
                ),
                "certificates": [certificate_as_dict(c) for c in certificates],
            },
            json_dumps_params={"indent": 2},
        )
    pdf = certificates_render_pdf(certificates=certificates, title=f"Retention run {run.run_id}", run=run)
    return _pdf_response(pdf, f"retention-run-{run.run_id}.pdf")
