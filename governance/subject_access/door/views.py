"""The public door's pages (no sign-in) and the DPO's two door actions. Thin: parse the form → one
service → render. A refusal is shown on the page it came from, with its code and the status the
service gave it (400, 404, 409, 429) — never a 500."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from governance.errors import ApplicationError, ValidationFailed
from governance.signin.client import client_address
from governance.subject_access.access import subject_request_export_for
from governance.subject_access.door import services as door
from governance.subject_access.door.forms import DoorAnswerForm, DoorCodeForm, DoorNewCodeForm, DoorRequestForm
from governance.subject_access.door.models import DoorFileKind
from governance.web.errors import refusals_as_pages
from governance.web.responses import personal_data_response


def _uploads(request: HttpRequest, names: dict[str, str]) -> list[tuple[str, bytes]]:
    """The uploaded images as (kind, bytes); a file over the limit is refused before it is read."""
    limit = settings.OVERSIGHT_SUBJECT_PHOTO_MAX_BYTES
    files = []
    for name, kind in names.items():
        for upload in request.FILES.getlist(name)[: settings.OVERSIGHT_DOOR_MAX_FILES + 1]:
            if upload.size > limit:
                raise ValidationFailed(
                    f"{DoorFileKind(kind).label}: the file is {upload.size:,} bytes; the limit is {limit:,} bytes.",
                    code="file_too_large",
                )
            files.append((kind, upload.read()))
    return files


def _refused(request: HttpRequest, error: ApplicationError) -> int:
    messages.error(request, f"{error.message} ({error.code})")
    if isinstance(error.details, dict):
        for name, problems in error.details.items():
            if isinstance(problems, (list, tuple)):
                messages.error(request, f"{name.replace('_', ' ')}: {' '.join(map(str, problems))}")
    return error.status_code


@refusals_as_pages
def door_index(request: HttpRequest) -> HttpResponse:
    return render(request, "subject_access/door/index.html", {"controllers": door.door_controllers()})


@refusals_as_pages
def door_request(request: HttpRequest, short_name: str) -> HttpResponse:
    controller = door.door_controller(short_name)
    rights = [(right, f"{label_for(right)} ({law})") for right, law in door.door_rights(controller)]
    form = DoorRequestForm(request.POST or None, request.FILES or None, rights=rights)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                files = _uploads(request, {"photo": DoorFileKind.PHOTO, "identity": DoorFileKind.IDENTITY})
                sar = door.door_submit(
                    controller=controller, values=form.cleaned_data, files=files, address=client_address(request)
                )
            except ApplicationError as error:
                status = _refused(request, error)
            else:
                request.session["door_reference"] = sar.reference
                return redirect("subject-door-sent")
        else:
            status = 400
    return render(
        request,
        "subject_access/door/request.html",
        {
            "controller": controller,
            "form": form,
            "regime": door.door_regime(controller),
            "retention_days": settings.OVERSIGHT_DOOR_FILE_RETENTION_DAYS,
        },
        status=status,
    )


def label_for(right: str) -> str:
    from governance.subject_access.models import SubjectRight

    return {
        SubjectRight.ACCESS: "See the information held about me",
        SubjectRight.RECTIFICATION: "Correct information held about me",
        SubjectRight.ERASURE: "Have information about me erased",
        SubjectRight.RESTRICTION: "Limit how information about me is used",
        SubjectRight.OBJECTION: "Object to how information about me is used",
    }[right]


def door_sent(request: HttpRequest) -> HttpResponse:
    reference = request.session.get("door_reference")
    if not reference:
        return redirect("subject-door-index")
    return render(request, "subject_access/door/sent.html", {"reference": reference})


@refusals_as_pages
def door_return(request: HttpRequest) -> HttpResponse:
    form = DoorAnswerForm(request.POST or None, request.FILES or None, initial={"reference": request.GET.get("ref")})
    status, done = 200, None
    if request.method == "POST":
        if form.is_valid():
            try:
                done = door.door_answer(
                    reference=form.cleaned_data["reference"],
                    code=form.cleaned_data["code"],
                    text=form.cleaned_data["text"],
                    files=_uploads(request, {"identity": DoorFileKind.IDENTITY}),
                    address=client_address(request),
                )
            except ApplicationError as error:
                status = _refused(request, error)
        else:
            status = 400
    return render(
        request,
        "subject_access/door/return.html",
        {"form": form, "done": done, "new_code_form": DoorNewCodeForm()},
        status=status,
    )


@require_POST
@refusals_as_pages
def door_new_code(request: HttpRequest) -> HttpResponse:
    form = DoorNewCodeForm(request.POST)
    if form.is_valid():
        try:
            door.door_code_resend(
                reference=form.cleaned_data["reference"],
                email=form.cleaned_data["email"],
                address=client_address(request),
            )
        except ApplicationError as error:
            _refused(request, error)
            return redirect("subject-door-return")
    messages.success(
        request, "If that reference and e-mail address match a request waiting for you, a new code is on its way."
    )
    return redirect("subject-door-return")


@refusals_as_pages
def door_download(request: HttpRequest, token: str) -> HttpResponse:
    row = door.door_link(token)
    refusal = door.door_code_refusal(row)
    form = DoorCodeForm(request.POST or None)
    status = 200
    if refusal is not None:
        status = _refused(request, refusal)
    elif request.method == "POST":
        if form.is_valid():
            try:
                data, content_type, filename = door.door_download(
                    token=token, code=form.cleaned_data["code"], address=client_address(request)
                )
            except ApplicationError as error:
                status = _refused(request, error)
            else:
                return personal_data_response(data, content_type, filename=filename)
        else:
            status = 400
    response = render(
        request,
        "subject_access/door/download.html",
        {
            "form": form,
            "usable": door.door_code_refusal(row) is None,
            "organisation": row.submission.request.organisation,
        },
        status=status,
    )
    # The link's token never leaves in a Referer to another site ("no-referrer" would make the browser
    # send "Origin: null" with the code form, which CSRF protection rightly refuses).
    response["Referrer-Policy"] = "same-origin"
    return response


# --- the DPO's side --------------------------------------------------------------------------------------


@login_required
@refusals_as_pages
def door_file(request: HttpRequest, pk: int) -> HttpResponse:
    item = door.door_file_for(request.user, pk)
    return personal_data_response(door.door_file_read(actor=request.user, item=item), item.content_type)


@login_required
@require_POST
@refusals_as_pages
def door_response_send(request: HttpRequest, pk: int) -> HttpResponse:
    export = subject_request_export_for(request.user, pk)
    door.door_response_send(actor=request.user, export=export)
    messages.success(request, "The link and, separately, the one-time code have been e-mailed to the requester.")
    return redirect("subject-request-detail", pk=export.request_id)
