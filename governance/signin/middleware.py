"""Session guard: idle timeout, and no page or API call before the second factor where one is due.

Runs after django-otp's OTPMiddleware (which tells whether this session passed a second factor).
Deny by default: while a second factor is due, only the sign-in pages themselves, sign-out and the
health endpoints answer; every other view redirects to the second-factor page, and under ``/api/``
answers JSON 403, so no new view can forget the check.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils import timezone

from governance.signin.services import (
    second_factor_enrolled,
    second_factor_required,
    session_verified,
    signin_event_record,
)

LAST_ACTIVITY_KEY = "oversight_last_activity"
# Pages open before the second factor.
OPEN_BEFORE_SECOND_FACTOR = frozenset(
    {"login", "logout", "second-factor", "second-factor-setup", "health-live", "health-ready"}
)
# Requests a page makes by itself (the review queue's poll, and the thumbnails of the alerts it brings) are not
# the user being active.
BACKGROUND_URL_NAMES = frozenset({"review-queue-json", "alert-queue-crop-thumbnail", "alert-queue-reference-thumbnail"})


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


class SessionGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or not hasattr(request, "session"):
            return None
        name = request.resolver_match.url_name if request.resolver_match else None
        now = timezone.now().timestamp()
        last = request.session.get(LAST_ACTIVITY_KEY)
        if last is not None and now - last > settings.OVERSIGHT_SESSION_IDLE_MINUTES * 60:
            signin_event_record(
                request=request, event="signin.idle_timeout", user=user, idle_minutes=int((now - last) // 60)
            )
            logout(request)
            if _is_api(request):
                return JsonResponse(
                    {
                        "error": {
                            "code": "session_expired",
                            "message": "Your session expired; sign in again.",
                            "details": None,
                        }
                    },
                    status=401,
                )
            return redirect_to_login(request.get_full_path())
        if name not in BACKGROUND_URL_NAMES:
            request.session[LAST_ACTIVITY_KEY] = now
        if name in OPEN_BEFORE_SECOND_FACTOR or not second_factor_required(user) or session_verified(request):
            return None
        if _is_api(request):
            return JsonResponse(
                {
                    "error": {
                        "code": "second_factor_required",
                        "message": "Pass the second factor at /sign-in/second-factor/ first.",
                        "details": None,
                    }
                },
                status=403,
            )
        target = "second-factor" if second_factor_enrolled(user) else "second-factor-setup"
        response = redirect(target)
        if request.method == "GET":
            response["Location"] += "?" + urlencode({"next": request.get_full_path()})
        return response


_SESSION_KEY_SHAPE = re.compile(r"[a-z0-9]{8,64}")


class SessionCookieShapeMiddleware:
    """Drop a session cookie that cannot be a session key (Django makes them [a-z0-9]{32}).

    A forged cookie with a NUL byte or other junk otherwise reaches the session table's query and
    PostgreSQL refuses it (500). Before SessionMiddleware: the request simply has no session.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if key is not None and not _SESSION_KEY_SHAPE.fullmatch(key):
            del request.COOKIES[settings.SESSION_COOKIE_NAME]
        return self.get_response(request)
