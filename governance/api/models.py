"""API credentials and request bookkeeping.

``ApiToken`` is the register entry for a knox token (knox stores only a SHA-512 digest of the
secret, with an expiry): who it was issued to and by, for which organisation, when it was used, and
when and by whom it was revoked. Revoking deletes knox's row (the token stops working at once) but
keeps this entry, so the history of every credential outlives it.

``IdempotencyRecord`` makes a retried upload safe: the first response to an ``Idempotency-Key`` is
kept (scoped to the token) and replayed for a retry with the same body.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from governance.organisations.models import Organisation


class ApiToken(models.Model):
    # knox's row is keyed by this digest (SHA-512 of the secret); the secret itself is never stored.
    digest = models.CharField(max_length=128, unique=True)
    token_key = models.CharField(max_length=32, db_index=True, help_text="Public prefix of the token (not secret).")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="api_tokens")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens")
    label = models.CharField(max_length=120, blank=True)
    issued_at = models.DateTimeField()
    issued_by_name = models.CharField(max_length=200, blank=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by_name = models.CharField(max_length=200, blank=True)
    revocation_reason = models.TextField(blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    use_count = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-issued_at"]

    def concerned_organisation_ids(self) -> set[int]:
        return {self.organisation_id}

    def __str__(self) -> str:
        return f"API token {self.token_key}… ({self.organisation.short_name})"


class IdempotencyRecord(models.Model):
    scope = models.CharField(max_length=160, help_text="token:<digest prefix> or user:<id>")
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key_unique")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
