"""A deployment's own watchlist: the images its supplying force chose for *this* operation.

College of Policing APP (live facial recognition): a watchlist is specific to an operation, reviewed
before each deployment, no larger than the operation needs, and holds the most recent suitable image
of each person. The force that supplied the images composes it (``recognition.deployments.watchlists``);
the gallery a deployment matches is exactly its composed, matchable entries.

An entry is never deleted: removing an image from the watchlist stamps ``removed_at`` (who, when,
why), so the record of what a deployment could match outlives the change — and the erasure of the
operator's copies after the deployment ends is dated from it (``watchlist_image_erasure_due_at``).
"""

from __future__ import annotations

from django.db import models

from governance.fields import user_reference
from governance.organisations.models import Organisation
from governance.watchlist.models import WatchlistImage


class DeploymentWatchlistEntry(models.Model):
    deployment = models.ForeignKey("deployments.Deployment", on_delete=models.PROTECT, related_name="watchlist_entries")
    image = models.ForeignKey(WatchlistImage, on_delete=models.PROTECT, related_name="deployment_entries")
    # The force accountable for the image (copied from it): whose review covers this entry.
    force = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    added_by = user_reference(blank=False)
    added_by_name = models.CharField(max_length=200)
    added_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    removed_by = user_reference()
    removed_by_name = models.CharField(max_length=200, blank=True)
    removal_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["deployment", "force", "image"]
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "image"],
                condition=models.Q(removed_at__isnull=True),
                name="deployment_watchlist_entry_unique_active",
            )
        ]
        indexes = [models.Index(fields=["image", "removed_at"], name="watchlist_entry_image_idx")]

    def __str__(self) -> str:
        return f"Image #{self.image_id} on the watchlist of deployment #{self.deployment_id}"

    @property
    def is_active(self) -> bool:
        return self.removed_at is None
