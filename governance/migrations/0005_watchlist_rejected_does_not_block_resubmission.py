"""A rejected watchlist image no longer blocks the same bytes being uploaded again (corrected, e.g.
with a face box): the partial unique index covers only images waiting for enrolment or enrolled."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0004_access_scope"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="watchlistimage",
            name="watchlist_image_unique_live_sha256",
        ),
        migrations.AddConstraint(
            model_name="watchlistimage",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ["received", "enrolled"]), models.Q(("sha256", ""), _negated=True)),
                fields=("agreement", "sha256"),
                name="watchlist_image_unique_pending_or_enrolled_sha256",
            ),
        ),
    ]
