"""The subject request pages. Thin: parse the form → access / selector → one service → render.

A search is a POST (its justification never lands in a URL); candidates and their crops are shown
as data: URIs (the CSP allows ``img-src data:``): in the answer to that POST for a search by reference, on the
search's own page (its searcher's only) for a search by photo, which a worker runs (issue 26).
"""

from __future__ import annotations

import base64

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from governance.access import is_regulator, record_history
from governance.audit.consultation import audit_consultation, audit_consultation_batch, personal_data
from governance.errors import ApplicationError, NotFound, PermissionRefused, ValidationFailed
from governance.inputs import is_id, parse_int
from governance.subject_access import photo_searches, selectors
from governance.subject_access import services as sars
from governance.subject_access.access import (
    can_read_subject_requests,
    can_receive_subject_requests,
    can_subject_request,
    subject_request_export_for,
    subject_request_for,
)
from governance.subject_access.consultation import (
    S45_4,
    can_decide_consultation,
    consultation_decide,
    consultation_for,
    consultation_refusal,
)
from governance.subject_access.consultation import subject_request_consult as consult
from governance.subject_access.door.services import door_context, door_photo_read, door_photos
from governance.subject_access.forms import (
    ExtendForm,
    IntakeForm,
    RestartClockForm,
    RestrictItemForm,
    SearchForm,
    StopClockForm,
)
from governance.subject_access.models import (
    CLOSED_STATUSES,
    ExportStatus,
    ItemDecision,
    NoticeException,
    RequestStatus,
    RestrictionBasis,
)
from governance.subject_access.recipients import (
    notification_chase,
    recipient_notification_acknowledge,
    recipient_notification_exception,
    recipient_notification_for,
)
from governance.subject_access.registry import subject_data_provider
from governance.web.errors import refusal_messages, refusals_as_pages, refusals_back_to
from governance.web.responses import personal_data_response


def _gate(user) -> None:
    if not can_read_subject_requests(user):
        raise PermissionRefused("Your role does not handle subject requests.")


def _purpose(request: HttpRequest, pk: int | None = None, **kwargs) -> str:
    """The purpose follows from the task: answering (or, for a regulator, overseeing) the requests."""
    task = "Regulatory oversight of" if is_regulator(request.user) else "Answering"
    return f"={task} subject request #{pk}" if pk else f"={task} subject requests"


@login_required
@refusals_as_pages
@personal_data(_purpose)
def subject_request_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    _gate(user)
    status = request.GET.get("status", "open")
    overdue = request.GET.get("overdue") == "1"
    rows = [
        (r, selectors.subject_request_deadline(r))
        for r in selectors.subject_request_list(user=user, status=status, overdue=overdue)[:500]
    ]
    audit_consultation_batch(
        actor=user,
        target_type="governance.subjectrequest",
        records=[r.pk for r, _deadline in rows],
        event="subject_requests.listed",
        justification=request.consultation_purpose,
        shown="each request's reference, requester's name, status and deadline",
        label="Subject requests",
    )
    return render(
        request,
        "subject_access/request_list.html",
        {
            "rows": rows,
            "status": status,
            "overdue": overdue,
            "statuses": RequestStatus.choices,
            "can_receive": can_receive_subject_requests(user),
            "staff_names_as_roles": getattr(user.organisation, "staff_names_as_roles", False),
        },
    )


def _intake_fields(data: dict) -> dict:
    fields = {k: v for k, v in data.items() if k != "awaiting_identity"}
    if data.get("awaiting_identity"):
        fields.update(identity_verified_how="", identity_verified_by_name="", identity_verified_on=None)
    return fields


@login_required
@refusals_as_pages
def subject_request_create(request: HttpRequest) -> HttpResponse:
    if not can_receive_subject_requests(request.user):
        raise PermissionRefused("Only a data protection officer records subject requests.")
    form = IntakeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = sars.subject_request_receive(
                actor=request.user,
                fields=_intake_fields(form.cleaned_data),
                awaiting_identity=form.cleaned_data["awaiting_identity"],
            )
        except ApplicationError as error:
            refusal_messages(request, error)
        else:
            messages.success(request, f"{created.reference} recorded.")
            return redirect("subject-request-detail", pk=created.pk)
    return render(request, "subject_access/request_form.html", {"form": form})


@login_required
@require_POST
@refusals_as_pages
def subject_request_policy(request: HttpRequest) -> HttpResponse:
    try:
        organisation = sars.organisation_staff_policy_set(
            actor=request.user, staff_names_as_roles=request.POST.get("staff_names_as_roles") == "on"
        )
    except PermissionRefused:
        raise
    except ApplicationError as error:
        refusal_messages(request, error)
    else:
        messages.success(
            request,
            "Responses now name staff by role only." if organisation.staff_names_as_roles else "Responses name staff.",
        )
    return redirect("subject-request-list")


def _items_view(sar) -> list[dict]:
    rows = []
    for item in sar.items.all():
        kind = item.ref.partition(":")[0]
        provider = subject_data_provider(kind)
        rows.append(
            {
                "item": item,
                "kind_title": provider.title if provider else kind,
                "rectifiable": provider.rectifiable_fields if provider and provider.rectify else (),
                "can_erase": bool(provider and provider.erase),
                "can_restrict": bool(provider and provider.restrict),
                "can_object": bool(provider and provider.object),
            }
        )
    return rows


@login_required
@refusals_as_pages
@personal_data(_purpose)
def subject_request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    sar = subject_request_for(user, pk)
    contents = can_subject_request(user, sar, "contents")
    audit_consultation(
        actor=user,
        target=sar,
        event="subject_request.viewed",
        justification=request.consultation_purpose,
        # What the page shows: it decrypts no image (the crops are shown by the search page only).
        shown="the request, the requester's details and the items found, no images"
        if contents
        else "the request's register entry (metadata only)",
    )
    context = {
        "sar": sar,
        "deadline": selectors.subject_request_deadline(sar),
        "pauses": list(sar.pauses.all()),
        "contents": contents,
        "can_change": contents and can_subject_request(user, sar, "change") and sar.status not in CLOSED_STATUSES,
        "closed_statuses": [(s, RequestStatus(s).label) for s in CLOSED_STATUSES],
    }
    if contents:
        context.update(
            {
                "items": _items_view(sar),
                "actions": list(sar.actions.all()),
                "exports": list(sar.exports.all()[:10]),
                "referrals": list(sar.referrals.select_related("organisation")),
                "controllers": sars.subject_request_controllers(actor=user, request=sar)
                if sar.status not in CLOSED_STATUSES
                else [],
                "history": record_history("governance.subjectrequest", sar),
                "stop_form": StopClockForm(),
                "restart_form": RestartClockForm(),
                "extend_form": ExtendForm(),
                "restrict_form": RestrictItemForm(),
                "bases": RestrictionBasis.choices,
                "notifications": [
                    (n, notification_chase(n)) for n in sar.recipient_notifications.select_related("recipient")
                ],
                "notice_exceptions": NoticeException.choices,
                # The force's decision and the provision relied on; its reasoning is the force's.
                "consultations": list(sar.consultations.select_related("force").defer("reasoning")),
                "consultation_needed": consultation_refusal(user, sar) if sar.status not in CLOSED_STATUSES else None,
            }
        )
        context.update(door_context(sar))
    return render(request, "subject_access/request_detail.html", context)


def _date(value: str):
    from datetime import date

    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise ValidationFailed("Give the date as YYYY-MM-DD.", code="date_invalid") from None


@login_required
@require_POST
@refusals_as_pages
@refusals_back_to("subject-request-detail", with_details=True)
def subject_request_action(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    sar = subject_request_for(user, pk, to="change")
    data = request.POST
    action = data.get("action", "")
    target = sar
    if action == "stop":
        sars.subject_request_clock_stop(
            actor=user,
            request=sar,
            reason=data.get("reason", ""),
            on=_date(data.get("on", "")) or _today(),
            note=data.get("note", ""),
            fee_ground=data.get("fee_ground", ""),
        )
        messages.success(request, "Clock stopped.")
    elif action == "restart":
        sars.subject_request_clock_restart(
            actor=user,
            request=sar,
            on=_date(data.get("on", "")) or _today(),
            identity_verified_how=data.get("identity_verified_how", ""),
            identity_verified_by_name=data.get("identity_verified_by_name", ""),
        )
        messages.success(request, "Received: the deadline is recalculated.")
    elif action == "extend":
        months = parse_int(data.get("months", "") or "0", "months", maximum=24)
        sars.subject_request_extend(
            actor=user,
            request=sar,
            months=months,
            reason=data.get("reason", ""),
            requester_told_on=_date(data.get("requester_told_on", "")),
        )
        messages.success(request, "Deadline extended.")
    elif action == "close":
        sars.subject_request_close(actor=user, request=sar, status=data.get("status", ""), note=data.get("note", ""))
        messages.success(request, "Request closed.")
    elif action == "withhold":
        item = data.get("item", "")
        sars.subject_request_item_restrict(
            actor=user,
            request=sar,
            item_id=int(item) if is_id(item) else 0,
            basis=data.get("basis", ""),
            reason=data.get("reason", ""),
            neither_confirm_nor_deny=data.get("neither_confirm_nor_deny") == "on",
        )
        messages.success(request, "Item withheld from the response, with its reason.")
    elif action == "refer":
        target = sars.subject_request_refer(
            actor=user, request=sar, controller_id=data.get("controller", ""), note=data.get("note", "")
        )
        messages.success(request, f"Referred: the controller has its own linked request {target.reference}.")
        target = sar
    elif action == "consult":
        asked = consult(actor=user, request=sar, note=data.get("note", ""))
        messages.success(request, "Asked: " + ", ".join(str(c.force) for c in asked) + ".")
    elif action == "notice-exception":
        notice = recipient_notification_for(user, data.get("notification", ""), to="except")
        if notice.request_id != sar.pk:
            raise NotFound("No such notification.", code="notification_not_found")
        recipient_notification_exception(
            actor=user, notification=notice, exception=data.get("exception", ""), reason=data.get("reason", "")
        )
        messages.success(request, "Exception recorded: the recipient is no longer chased.")
    elif action in ("rectify", "erase", "restrict", "unrestrict", "refuse", "object"):
        ref, reason = data.get("ref", ""), data.get("reason", "")
        if action == "rectify":
            done = sars.subject_request_rectify(
                actor=user,
                request=sar,
                ref=ref,
                field=data.get("field", ""),
                value=data.get("value", ""),
                reason=reason,
            )
        elif action == "erase":
            done = sars.subject_request_erase(actor=user, request=sar, ref=ref, reason=reason)
        elif action == "object":
            done = sars.subject_request_object(actor=user, request=sar, ref=ref, reason=reason)
        elif action == "refuse":
            done = sars.subject_request_refuse_right(
                actor=user, request=sar, ref=ref, right=data.get("right", ""), reason=reason
            )
        else:
            done = sars.subject_request_restrict_processing(
                actor=user, request=sar, ref=ref, restricted=action == "restrict", reason=reason
            )
        (messages.success if done.outcome == "done" else messages.warning)(request, done.reason)
    else:
        messages.error(request, "Unknown action.")
    return redirect("subject-request-detail", pk=target.pk)


def _today():
    from django.utils import timezone

    return timezone.localdate()


def _crop_src(jpeg: bytes | None) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii") if jpeg else ""


@login_required
@refusals_as_pages
def subject_request_search(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    sar = subject_request_for(user, pk, to="search")
    form = SearchForm(
        request.POST or None,
        request.FILES or None,
        initial={
            "subject_references": "\n".join(sar.subject_references),
            "case_references": "\n".join(sar.case_references),
        },
    )
    outcome = None
    if request.method == "POST" and form.is_valid():
        photo = form.cleaned_data.get("photo")
        try:
            data = None
            if photo:
                limit = settings.OVERSIGHT_SUBJECT_PHOTO_MAX_BYTES
                if photo.size > limit:  # refused before the bytes are read
                    raise ValidationFailed(
                        f"The photo is {photo.size:,} bytes; the limit is {limit:,} bytes.", code="photo_too_large"
                    )
                data = photo.read()
            elif is_id(request.POST.get("door_photo")):  # the photo the requester sent through the door
                data = door_photo_read(actor=user, request=sar, pk=request.POST["door_photo"])
            if data:  # by photo: recorded and answered at once; the worker decodes and searches (issue 26)
                search = photo_searches.subject_photo_search_start(
                    actor=user,
                    request=sar,
                    justification=form.cleaned_data["justification"],
                    subject_references=form.cleaned_data["subject_references"],
                    case_references=form.cleaned_data["case_references"],
                    photo=data,
                )
                return redirect("subject-request-search-result", pk=sar.pk, search_pk=search.pk)
            outcome = sars.subject_request_search(
                actor=user,
                request=sar,
                justification=form.cleaned_data["justification"],
                subject_references=form.cleaned_data["subject_references"],
                case_references=form.cleaned_data["case_references"],
                photo=data,
            )
        except (NotFound, PermissionRefused):
            raise
        except ApplicationError as error:
            refusal_messages(request, error)
    candidates = [
        {"candidate": c, "crop": _crop_src(c.crop_jpeg), "score": f"{c.score:.3f}" if c.score is not None else ""}
        for c in (outcome.candidates if outcome else [])
    ]
    status = 400 if request.method == "POST" and outcome is None else 200
    return render(
        request,
        "subject_access/request_search.html",
        {
            "sar": sar,
            "form": form,
            "outcome": outcome,
            "candidates": candidates,
            "door_photos": door_photos(sar),
        },
        status=status,
    )


# While a photo search is queued its page reloads itself after this many seconds (a meta refresh: no script).
PHOTO_SEARCH_REFRESH_SECONDS = 2


@login_required
@refusals_as_pages
def subject_request_search_result(request: HttpRequest, pk: int, search_pk: int) -> HttpResponse:
    """A search by photo: "searching" (the page refreshes itself) until the worker is done, then its candidates
    (each showing audited as a consultation, as the search was) or its coded refusal. Only its searcher sees it."""
    user = request.user
    sar = subject_request_for(user, pk, to="search")
    search = selectors.subject_photo_search_for(user, sar, search_pk)
    outcome = photo_searches.subject_photo_search_outcome(search)
    if outcome is not None:
        audit_consultation(
            actor=user,
            target=sar,
            event="subject_request.search_results_viewed",
            justification=search.justification,
            shown=f"The {len(outcome.candidates)} candidates of photo search #{search.pk}",
            details={"search": search.pk, "candidates": [str(c.ref) for c in outcome.candidates]},
        )
    decided = dict(sar.items.values_list("ref", "decision"))
    candidates = [
        {"candidate": c, "crop": _crop_src(c.crop_jpeg), "score": f"{c.score:.3f}" if c.score is not None else ""}
        for c in (outcome.candidates if outcome else [])
        if decided.get(str(c.ref)) is None
    ]
    return render(
        request,
        "subject_access/request_search_result.html",
        {
            "sar": sar,
            "search": search,
            "outcome": outcome,
            "candidates": candidates,
            "refresh_seconds": PHOTO_SEARCH_REFRESH_SECONDS,
        },
    )


@login_required
@require_POST
@refusals_as_pages
def subject_request_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    sar = subject_request_for(user, pk, to="search")
    refs = request.POST.getlist("ref")
    decisions = []
    for index, ref in enumerate(refs):
        decision = request.POST.get(f"decision_{index}", "")
        if decision in ItemDecision.values:
            decisions.append((ref, decision, request.POST.get(f"found_by_{index}", "")))
    try:
        items = sars.subject_request_decide(actor=user, request=sar, decisions=decisions)
    except ApplicationError as error:
        if isinstance(error, (NotFound, PermissionRefused)):
            raise
        refusal_messages(request, error)
    else:
        confirmed = sum(1 for i in items if i.decision == ItemDecision.CONFIRMED)
        messages.success(request, f"{confirmed} confirmed, {len(items) - confirmed} dismissed.")
    return redirect("subject-request-detail", pk=sar.pk)


@login_required
@require_POST
@refusals_as_pages
def subject_request_export(request: HttpRequest, pk: int) -> HttpResponse:
    sar = subject_request_for(request.user, pk, to="export")
    try:
        sars.subject_request_export_start(actor=request.user, request=sar)
    except ApplicationError as error:
        if isinstance(error, (NotFound, PermissionRefused)):
            raise
        refusal_messages(request, error)
    else:
        messages.success(request, "The response is being built.")
    return redirect("subject-request-detail", pk=sar.pk)


@login_required
@refusals_as_pages
def subject_request_export_status(request: HttpRequest, pk: int) -> HttpResponse:
    export = subject_request_export_for(request.user, pk)
    return JsonResponse(
        {
            "status": export.status,
            "progress": export.progress,
            "stage": export.stage,
            "ready": export.status == ExportStatus.READY,
            "error": export.error,
            "pdf": reverse("subject-request-download", kwargs={"pk": export.pk, "fmt": "pdf"}),
            "json": reverse("subject-request-download", kwargs={"pk": export.pk, "fmt": "json"}),
        }
    )


@login_required
@refusals_as_pages
def subject_request_download(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    export = subject_request_export_for(request.user, pk)
    try:
        data, content_type = sars.subject_request_export_download(actor=request.user, export=export, fmt=fmt)
    except (NotFound, PermissionRefused):
        raise
    except ApplicationError as error:
        return JsonResponse(
            {"error": {"code": error.code, "message": error.message}}, status=getattr(error, "status_code", 400)
        )
    return personal_data_response(data, content_type, filename=f"{export.request.reference}-response.{fmt}")


@login_required
@require_POST
@refusals_as_pages
def rights_notification_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    """The recipient's DPO acknowledges a rectification or erasure told to it (Art. 19 / s.48)."""
    notification = recipient_notification_for(request.user, pk, to="acknowledge")
    try:
        recipient_notification_acknowledge(
            actor=request.user, notification=notification, note=request.POST.get("note", "")
        )
    except (NotFound, PermissionRefused):
        raise
    except ApplicationError as error:
        refusal_messages(request, error)
    else:
        messages.success(request, "Acknowledged.")
    return redirect("dashboard")


@login_required
@refusals_as_pages
def rights_consultation(request: HttpRequest, pk: int) -> HttpResponse:
    """A supplying force's page for one consultation: what the asking organisation would release,
    and the decision (release, or restrict under s.45(4) with its reasons, kept by the force).
    The asking organisation sees the decision and the provision, never the reasoning."""
    user = request.user
    consultation = consultation_for(user, pk)
    can_decide = can_decide_consultation(user, consultation)
    if request.method == "POST":
        consultation = consultation_for(user, pk, to="decide")
        data = request.POST
        try:
            consultation_decide(
                actor=user,
                consultation=consultation,
                decision=data.get("decision", ""),
                basis=data.get("basis", ""),
                reasoning=data.get("reasoning", ""),
                neither_confirm_nor_deny=data.get("neither_confirm_nor_deny") == "on",
            )
        except (NotFound, PermissionRefused):
            raise
        except ApplicationError as error:
            refusal_messages(request, error)
        else:
            messages.success(request, "Decision recorded.")
        return redirect("rights-consultation", pk=pk)
    items = []
    for ref in consultation.refs:
        provider = subject_data_provider(ref.partition(":")[0])
        items.append((ref, provider.title if provider else ref))
    return render(
        request,
        "subject_access/consultation.html",
        {
            "consultation": consultation,
            "items": items,
            "can_decide": can_decide,
            "show_reasoning": can_decide,
            "bases": [(b.value, b.label) for b in S45_4],
        },
    )
