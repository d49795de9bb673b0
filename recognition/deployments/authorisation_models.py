"""The police's decisions on a deployment: each supplying force's authorisation (or refusal) by its
Authorising Officer, and the post-deployment review. Imported by ``models.py`` (Django finds the
models there); state changes only through ``recognition.deployments.authorisation``.

College of Policing APP on live facial recognition: the Authorising Officer, a senior officer of the
force, authorises each deployment and its watchlist criteria, with written reasons on necessity and
proportionality; each deployment is reviewed afterwards (outcomes, false alerts, whether to continue).
"""

from __future__ import annotations

from django.db import models

from governance.fields import user_reference
from governance.organisations.models import Organisation


class AuthorisationDecision(models.TextChoices):
    AUTHORISED = "authorised", "Authorised"
    REFUSED = "refused", "Refused"


class DeploymentAuthorisation(models.Model):
    """One supplying force's decision on a deployment, by its Authorising Officer.

    ``terms`` is what the officer saw and decided on (times, site, cameras, threshold, watchlist
    criteria): a change to any of them voids an authorisation (``voided_at``), and go-live needs a
    current one from every supplying force. ``verified`` is False only for the records migrated from
    the names the operator once typed: no account signed them.
    """

    deployment = models.ForeignKey("deployments.Deployment", on_delete=models.PROTECT, related_name="authorisations")
    force = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", help_text="The supplying force this decision is for."
    )
    decision = models.CharField(max_length=12, choices=AuthorisationDecision.choices)
    officer = user_reference()
    # Copies that outlive the account (and, for unverified records, all there ever was).
    officer_name = models.CharField(max_length=200)
    officer_rank = models.CharField(max_length=80, blank=True)
    verified = models.BooleanField(
        default=True, help_text="False: a name the operator typed before authorisations were signed in Oversight."
    )
    necessity = models.TextField(blank=True)
    proportionality = models.TextField(blank=True)
    watchlist_criteria = models.TextField(blank=True)
    location = models.TextField(blank=True)
    refusal_reasons = models.TextField(blank=True)
    terms = models.JSONField(default=dict, help_text="What was authorised, as the officer saw it.")
    decided_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("authorise_deployment", "Can authorise or refuse a deployment for the officer's force")]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} for {self.force} by {self.officer_name}"

    @property
    def is_current(self) -> bool:
        return self.verified and self.decision == AuthorisationDecision.AUTHORISED and self.voided_at is None


class ContinueDecision(models.TextChoices):
    CONTINUE = "continue", "Continue: further deployments may be proposed"
    CONTINUE_WITH_CHANGES = "continue_with_changes", "Continue only with the changes described"
    STOP = "stop", "Stop: no further deployments of this kind"


class PostDeploymentReview(models.Model):
    """The Authorising Officer's review after a deployment ends (one per supplying force)."""

    deployment = models.ForeignKey(
        "deployments.Deployment", on_delete=models.PROTECT, related_name="post_deployment_reviews"
    )
    force = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    reviewed_by = user_reference()
    reviewed_by_name = models.CharField(max_length=200)
    reviewed_by_rank = models.CharField(max_length=80, blank=True)
    outcomes = models.TextField(help_text="What the deployment achieved: engagements, arrests, safeguarding.")
    false_alerts = models.TextField(help_text="False alerts: how many, what was learned.")
    issues = models.TextField(help_text="Problems: complaints, equipment, signage, community concerns.")
    continue_decision = models.CharField(max_length=24, choices=ContinueDecision.choices)
    figures = models.JSONField(default=dict, help_text="The deployment's figures when it was reviewed.")
    reviewed_at = models.DateTimeField()

    class Meta:
        ordering = ["-reviewed_at"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "force"], name="post_deployment_review_one_per_force")
        ]

    def __str__(self) -> str:
        return f"Post-deployment review of {self.deployment.reference} by {self.reviewed_by_name}"
