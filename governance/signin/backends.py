"""The lockout backend: django-axes' check, first in AUTHENTICATION_BACKENDS."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    """Refuses a sign-in while the account or the address is locked out.

    Every HTTP sign-in in Oversight passes the request (the sign-in page, the admin redirects to
    it); ``authenticate()`` without a request happens only in-process (tests' ``client.login``,
    the shell), where there is no address to count and nobody to throttle, so it is let through
    to the password check instead of raising as axes does.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
