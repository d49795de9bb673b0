"""``Idempotency-Key``: a retried POST returns the first response instead of acting twice.

Scope: the key belongs to the token (or, for a signed-in session, the user), so two forces can
never collide. The first successful (2xx) response is stored in the same transaction as the work it
describes, so "done but not recorded" cannot happen; a refusal (4xx) is not stored, so a retry after
fixing the cause can succeed. A retry with the same key and the same request (method, path, fields
and the SHA-256 of each file) replays the stored response with ``Idempotent-Replayed: true``; the
same key with a different request is refused with 422 ``idempotency_key_reused``. Two concurrent
requests with one key are serialised on the key's unique index: the second replays the first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from governance.api.models import IdempotencyRecord
from governance.errors import ApplicationError, ValidationFailed

HEADER = "Idempotency-Key"


class IdempotencyKeyReused(ApplicationError):
    status_code = 422
    default_code = "idempotency_key_reused"


class _NotStored(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _scope(request) -> str:
    auth = getattr(request, "auth", None)
    if getattr(auth, "digest", None):
        return f"token:{auth.digest[:64]}"
    return f"user:{request.user.pk}"


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    data = request.data
    if hasattr(data, "lists"):
        items = {key: values for key, values in data.lists() if key not in request.FILES}
    else:
        items = data
    digest.update(json.dumps(items, sort_keys=True, default=str).encode())
    for name in sorted(request.FILES.keys()):
        for upload in request.FILES.getlist(name):
            file_hash = hashlib.sha256()
            for chunk in upload.chunks():
                file_hash.update(chunk)
            upload.seek(0)
            digest.update(f"\n{name}:{file_hash.hexdigest()}".encode())
    return digest.hexdigest()


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different request; use a new key for a new request.",
        )
    return Response(record.response_body, status=record.response_status, headers={"Idempotent-Replayed": "true"})


def idempotent(request, handler: Callable[[], Response]) -> Response:
    """Run ``handler`` (which calls one service) at most once per Idempotency-Key."""
    key = request.headers.get(HEADER)
    if key is None:
        return handler()
    key = key.strip()
    if not key or len(key) > 255 or not key.isprintable():
        raise ValidationFailed("An Idempotency-Key is 1 to 255 printable characters.", code="invalid_idempotency_key")
    scope = _scope(request)
    fingerprint = _fingerprint(request)
    cutoff = timezone.now() - timedelta(hours=settings.OVERSIGHT_IDEMPOTENCY_HOURS)
    existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
    if existing is not None:
        if existing.created_at >= cutoff:
            return _replay(existing, fingerprint)
        existing.delete()
    try:
        with transaction.atomic():
            # Inserted first: a concurrent request with the same key waits on this row's unique index.
            record = IdempotencyRecord.objects.create(
                scope=scope,
                key=key,
                request_fingerprint=fingerprint,
                method=request.method,
                path=request.path[:300],
                response_status=0,
                response_body={},
                created_at=timezone.now(),
            )
            response = handler()
            if not 200 <= response.status_code < 300:
                raise _NotStored(response)
            record.response_status = response.status_code
            record.response_body = json.loads(json.dumps(response.data, default=str))
            record.save(update_fields=["response_status", "response_body"])
            return response
    except _NotStored as not_stored:
        return not_stored.response
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        if existing is None or existing.response_status == 0:
            raise
        return _replay(existing, fingerprint)
