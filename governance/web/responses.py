"""How the pages hand out personal data as a file: never from a cache (``Cache-Control: no-store``), so each showing
is served afresh and recorded by the service that read it; as an attachment when it has a file name."""

from __future__ import annotations

from django.http import HttpResponse


def personal_data_response(data: bytes, content_type: str, *, filename: str = "") -> HttpResponse:
    """``data`` (already read, and audited, by its service) as a response no cache keeps; ``filename``: downloaded
    under that name rather than shown."""
    response = HttpResponse(data, content_type=content_type)
    if filename:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
