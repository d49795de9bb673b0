"""The inbox, the account's notification preference, and the regulator's acknowledgement and queries."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from governance.notifications import services
from governance.notifications.access import notification_for, query_record
from governance.notifications.regulator import RECEIVED_KINDS
from governance.notifications.selectors import inbox_for, wants_email
from governance.web.errors import refusals_as_pages


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("show") == "unread"
    notifications = inbox_for(user=request.user, unread_only=unread_only)[:200]
    return render(request, "notifications/inbox.html", {"notifications": notifications, "unread_only": unread_only})


@login_required
@refusals_as_pages
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Marks the notice read and goes where its work is done (the link an email carries)."""
    notification = services.notification_read(actor=request.user, notification=notification_for(request.user, pk))
    if not url_has_allowed_host_and_scheme(notification.url, allowed_hosts=None):
        return redirect("notification-inbox")
    return redirect(notification.url)


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    count = services.notifications_read_all(actor=request.user)
    messages.success(request, f"{count} notice{'s' if count != 1 else ''} marked read.")
    return redirect("notification-inbox")


@login_required
def account(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        email = request.POST.get("email") == "on"
        services.notification_preference_set(actor=request.user, email=email)
        messages.success(request, "Email notices turned on." if email else "Email notices turned off.")
        return redirect("account")
    return render(request, "notifications/account.html", {"email_on": wants_email(request.user)})


def _back(record) -> HttpResponse:
    kind = record._meta.model_name
    return redirect(RECEIVED_KINDS[kind].url(record) + "#regulator")


@login_required
@require_POST
@refusals_as_pages
def received_acknowledge(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    services.regulator_notification_acknowledge(actor=request.user, kind=kind, pk=pk)
    messages.success(request, "Acknowledged.")
    if request.POST.get("next") == "record":
        return _back(RECEIVED_KINDS[kind].record(pk))
    return redirect("dashboard")


@login_required
@require_POST
@refusals_as_pages
def received_query(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    query = services.regulator_query_ask(
        actor=request.user, kind=kind, pk=pk, question=request.POST.get("question", "")
    )
    messages.success(request, "Your question was sent; the organisation's DPO answers it on the record's page.")
    return _back(query_record(query))


@login_required
@require_POST
@refusals_as_pages
def query_answer(request: HttpRequest, pk: int) -> HttpResponse:
    query = services.regulator_query_answer(actor=request.user, pk=pk, answer=request.POST.get("answer", ""))
    messages.success(request, "Your answer was sent to the regulator.")
    return _back(query_record(query))
