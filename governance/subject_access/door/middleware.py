"""A cap on the size of any request to the public door, before anything reads its body.

Django's CSRF check reads a POST's form (and so streams every uploaded file to disk) before the view
runs; the door is open to anyone, so its bodies are refused by their declared length first: at most
``OVERSIGHT_DOOR_MAX_FILES`` images of ``OVERSIGHT_SUBJECT_PHOTO_MAX_BYTES`` and the text fields.
(A body without a Content-Length is read as empty by Django's WSGI handler.)
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse

DOOR_PREFIX = "/requests/"
TEXT_ALLOWANCE = 64 * 1024


def door_body_limit() -> int:
    return settings.OVERSIGHT_DOOR_MAX_FILES * settings.OVERSIGHT_SUBJECT_PHOTO_MAX_BYTES + TEXT_ALLOWANCE


class DoorBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(DOOR_PREFIX):
            declared = str(request.META.get("CONTENT_LENGTH") or "0").strip()
            if declared.isdigit() and int(declared) > door_body_limit():
                message = f"What you sent is too large: at most {door_body_limit():,} bytes in all."
                # Plain text: this runs before the session and the user exist, so no page template.
                return HttpResponse(f"{message} (body_too_large)", status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
