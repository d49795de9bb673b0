"""The administration pages (the administrator's home) and the invitee's set-password page.

Thin: the access layer finds the record (another organisation's is 404), one service changes it,
refusals become messages or field errors. Secrets (an invitation link, an API token) are put in the
session once and shown on the next page only.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from governance.administration import access, services
from governance.administration.forms import InviteForm, ReasonForm, SetPasswordForm, TokenIssueForm
from governance.administration.models import Invitation
from governance.administration.registry import administration_sections
from governance.api.tokens import api_token_issue, api_token_revoke
from governance.errors import ApplicationError, NotFound, PermissionRefused
from governance.home.selectors import home_for
from governance.organisations.roles import Role
from governance.organisations.services import user_create
from governance.web.errors import refusals_as_pages, refusals_back_to

SECRET_KEY = "administration_secret"


def _form_error(form, error: ApplicationError) -> None:
    placed = False
    if isinstance(error.details, dict):
        for field, problems in error.details.items():
            if field in form.fields:
                form.add_error(field, problems)
                placed = True
            elif field == "__all__":
                form.add_error(None, problems)
                placed = True
    if not placed:
        form.add_error(None, error.message)


def _account_state(user, invitation: Invitation | None) -> tuple[str, str]:
    if not user.is_active:
        return "Deactivated", "terminated"
    if user.has_usable_password():
        return "Active", "active"
    if invitation is None:
        return "No password: a service account (API tokens only)", ""
    if invitation.is_pending:
        return f"Invited (link valid until {invitation.expires_at:%d %b %Y %H:%M})", "submitted"
    return "Invitation expired or withdrawn", "warning"


def _latest_invitations(users) -> dict[int, Invitation]:
    latest: dict[int, Invitation] = {}
    for invitation in Invitation.objects.filter(user__in=users).order_by("created_at"):
        latest[invitation.user_id] = invitation
    return latest


@login_required
@refusals_as_pages
def administration_home(request: HttpRequest) -> HttpResponse:
    actor = request.user
    scope = access.administration_scope(actor)
    users = list(access.users_administered_by(actor))
    invitations = _latest_invitations(users)
    rows = [(user, user.role_names, *_account_state(user, invitations.get(user.pk))) for user in users]
    sections = [
        (section, section.rows(actor), section.manage_url(actor) if section.manage_url else "")
        for section in administration_sections()
    ]
    return render(
        request,
        "administration/home.html",
        {
            "scope": scope,
            "rows": rows,
            "tokens": access.api_tokens_administered_by(actor).order_by("-issued_at")[:200],
            "sections": sections,
            "secret": request.session.pop(SECRET_KEY, None),
            "issues_tokens": any(o.is_police for o in scope.organisations),
            "home": home_for(user=actor),  # the panels of any other role the administrator holds
        },
    )


@login_required
@refusals_as_pages
def user_invite(request: HttpRequest) -> HttpResponse:
    actor = request.user
    access.administration_require(actor)
    form = InviteForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user, secret = services.user_invite(
                actor=actor,
                organisation=data["organisation"],
                username=data["username"],
                roles=[Role(r) for r in data["roles"]],
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                job_title=data["job_title"],
            )
        except (NotFound, PermissionRefused):
            raise
        except ApplicationError as error:
            _form_error(form, error)
        else:
            _keep_invitation_link(request, user, secret)
            return redirect("administration-user", pk=user.pk)
    return render(request, "administration/invite.html", {"form": form}, status=400 if form.errors else 200)


def _keep_invitation_link(request: HttpRequest, user, secret: str) -> None:
    request.session[SECRET_KEY] = {
        "kind": "invitation",
        "for": user.username,
        "value": request.build_absolute_uri(reverse("invitation-accept", args=[secret])),
    }


@login_required
@refusals_as_pages
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = access.managed_user_for(request.user, pk)
    invitation = _latest_invitations([user]).get(user.pk)
    held = set(user.groups.values_list("name", flat=True))
    return render(
        request,
        "administration/user.html",
        {
            "account": user,
            "state": _account_state(user, invitation),
            "roles": [(role, role.group_name in held) for role in Role],
            "tokens": access.api_tokens_administered_by(request.user).filter(user=user),
            "reason_form": ReasonForm(),
            "secret": request.session.pop(SECRET_KEY, None),
            # A person invited earlier whose link was lost or ran out (not an API service account).
            "can_reinvite": user.is_active and not user.has_usable_password() and invitation is not None,
        },
    )


@login_required
@require_POST
@refusals_as_pages
@refusals_back_to("administration-user")
def user_action(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.user
    user = access.managed_user_for(actor, pk)
    action = request.POST.get("action", "")
    if action in {"assign_role", "remove_role"}:
        try:
            role = Role(request.POST.get("role", ""))
        except ValueError:
            raise NotFound("No such role.") from None
        if action == "assign_role":
            services.user_role_assign(actor=actor, user=user, role=role)
            messages.success(request, f"{user.username} now holds the role {role.label}.")
        else:
            services.user_role_remove(actor=actor, user=user, role=role)
            messages.success(request, f"{user.username} no longer holds the role {role.label}.")
    elif action == "deactivate":
        services.user_deactivate(actor=actor, user=user, reason=request.POST.get("reason", ""))
        messages.success(request, f"{user.username} is deactivated; their API tokens are revoked.")
    elif action == "reactivate":
        services.user_reactivate(actor=actor, user=user)
        messages.success(request, f"{user.username} is active again.")
    elif action == "reinvite":
        _keep_invitation_link(request, user, services.invitation_issue(actor=actor, user=user))
        messages.success(request, "A new invitation link is ready; earlier links no longer work.")
    else:
        raise NotFound("Unknown action.")
    return redirect("administration-user", pk=user.pk)


@login_required
@refusals_as_pages
def token_issue(request: HttpRequest) -> HttpResponse:
    actor = request.user
    access.administration_require(actor)
    form = TokenIssueForm(request.POST or None, actor=actor)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account = data["user"]
            if account is None:
                account = user_create(
                    actor=actor,
                    username=data["new_account"].strip(),
                    organisation=data["organisation"],
                    roles=[Role.FORCE_SUBMITTER],
                    job_title="API service account",
                )
            entry, secret = api_token_issue(
                actor=actor, organisation=account.organisation, user=account, days=data["days"], label=data["label"]
            )
        except (NotFound, PermissionRefused):
            raise
        except ApplicationError as error:
            _form_error(form, error)
        else:
            request.session[SECRET_KEY] = {"kind": "token", "for": f"{entry.token_key}…", "value": secret}
            messages.success(request, f"Token {entry.token_key}… issued to {account.username}.")
            return redirect("administration-home")
    return render(request, "administration/token_issue.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_POST
@refusals_as_pages
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    entry = access.api_token_for(request.user, pk)
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise ApplicationError("Give a reason for revoking the token.")
        api_token_revoke(actor=request.user, entry=entry, reason=form.cleaned_data["reason"])
    except (NotFound, PermissionRefused):
        raise
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Token {entry.token_key}… revoked; it stops working at once.")
    return redirect("administration-home")


# --- the invitee ---------------------------------------------------------------------------------


INVITATION_SESSION_KEY = "_invitation_secret"
# Django's password-reset pattern: the link's secret is moved into the session at once and the page
# shown at a URL without it, so it stays out of browser history, screenshots and any Referer.
SET_PASSWORD = "set-password"


def invitation_accept(request: HttpRequest, secret: str) -> HttpResponse:
    """Open to anyone holding the link: the secret is the credential (256 bits, single use,
    expiring). A used, withdrawn or expired link says so, in words, with a 404."""
    if secret != SET_PASSWORD:
        if services.invitation_for_secret(secret) is None:
            return render(request, "administration/invitation_invalid.html", status=404)
        request.session[INVITATION_SESSION_KEY] = secret
        return redirect("invitation-accept", secret=SET_PASSWORD)
    secret = request.session.get(INVITATION_SESSION_KEY, "")
    invitation = services.invitation_for_secret(secret)
    if invitation is None:
        return render(request, "administration/invitation_invalid.html", status=404)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(secret=secret, password=form.cleaned_data["password"])
        except NotFound:
            return render(request, "administration/invitation_invalid.html", status=404)
        except ApplicationError as error:
            _form_error(form, error)
        else:
            request.session.pop(INVITATION_SESSION_KEY, None)
            messages.success(request, f"Your password is set, {user.username}. Sign in with it now.")
            return redirect("login")
    return render(
        request,
        "administration/invitation.html",
        {"form": form, "invitee": invitation.user},
        status=400 if form.errors else 200,
    )
