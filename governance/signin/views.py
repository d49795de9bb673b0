"""Sign-in pages: password, second factor, enrolment of an authenticator app."""

from __future__ import annotations

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe

from governance.signin.middleware import LAST_ACTIVITY_KEY
from governance.signin.services import (
    second_factor_enrolled,
    second_factor_required,
    second_factor_verify,
    session_verified,
    signin_event_record,
    totp_confirm,
    totp_pending_for,
)


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Code",
        max_length=16,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _with_next(name: str, request: HttpRequest):
    response = redirect(name)
    nxt = _next_url(request)
    if nxt != resolve_url(settings.LOGIN_REDIRECT_URL):
        from urllib.parse import urlencode

        response["Location"] += "?" + urlencode({"next": nxt})
    return response


class SignInForm(AuthenticationForm):
    """Django's form sets the username's ``max_length`` after the field is built, so no validator
    checks it, and ``authenticate`` ran with any length: django-axes then stored a 2,000-character
    username in a 255-character column (on PostgreSQL a 500, issue 26)."""

    def clean_username(self):
        username = self.cleaned_data.get("username") or ""
        if len(username) > self.fields["username"].max_length:
            raise forms.ValidationError("That is not a username.", code="invalid_login")
        return username


class SignInView(auth_views.LoginView):
    authentication_form = SignInForm
    template_name = "registration/login.html"
    redirect_authenticated_user = False

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        self.request.session[LAST_ACTIVITY_KEY] = timezone.now().timestamp()
        due = second_factor_required(user)
        signin_event_record(
            request=self.request, event="signin.password_accepted" if due else "signin.succeeded", user=user
        )
        if due:
            return _with_next("second-factor" if second_factor_enrolled(user) else "second-factor-setup", self.request)
        return response

    def form_invalid(self, form):
        username = str(form.data.get("username", ""))
        locked = bool(getattr(self.request, "axes_locked_out", False))
        signin_event_record(
            request=self.request, event="signin.locked_out" if locked else "signin.failed", username=username
        )
        return super().form_invalid(form)


@login_required
def second_factor(request: HttpRequest) -> HttpResponse:
    if not second_factor_enrolled(request.user):
        return _with_next("second-factor-setup", request)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if second_factor_verify(request=request, token=form.cleaned_data["token"]):
            return redirect(_next_url(request))
        form.add_error(
            "token", "That code was not accepted. Use the current code from your app or an unused recovery code."
        )
    return render(
        request,
        "registration/second_factor.html",
        {"form": form, "next": _next_url(request)},
        status=400 if form.errors else 200,
    )


@login_required
def second_factor_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app. A user who already has one must pass it first (a stolen
    password alone cannot replace the victim's device)."""
    if second_factor_enrolled(request.user) and not session_verified(request):
        return _with_next("second-factor", request)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = totp_confirm(request=request, token=form.cleaned_data["token"])
        if codes is not None:
            return render(request, "registration/recovery_codes.html", {"codes": codes, "next": _next_url(request)})
        form.add_error("token", "That code was not accepted. Check the time on your phone and try the next code.")
    pending = totp_pending_for(user=request.user)
    svg = qrcode.make(pending.provisioning_uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return render(
        request,
        "registration/second_factor_setup.html",
        {
            "form": form,
            "next": _next_url(request),
            "secret": pending.secret,
            # Generated by qrcode from our own URI: markup without scripts or styles.
            "qr_svg": mark_safe(svg.to_string(encoding="unicode")),
        },
        status=400 if form.errors else 200,
    )
