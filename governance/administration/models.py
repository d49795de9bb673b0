"""Invitations: how a new account gets its first password.

An administrator invites someone; the invitation carries a single-use, expiring secret (only its
SHA-256 digest is kept, like API tokens and camera keys). The invitee opens the link, sets a
password and then signs in as everyone does (second factor included). The register keeps who
invited whom, when, and when it was used or withdrawn.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Invitation(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    invited_by_name = models.CharField(max_length=200, blank=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("administer_organisation", "Can administer the organisation's accounts, roles, API tokens and cameras"),
        ]

    def __str__(self) -> str:
        return f"Invitation for {self.user}"

    def concerned_organisation_ids(self) -> set[int]:
        return self.user.concerned_organisation_ids()

    @property
    def is_pending(self) -> bool:
        from django.utils import timezone

        return self.accepted_at is None and self.withdrawn_at is None and self.expires_at > timezone.now()
