"""Door files are decoded in the worker (issue 26): ``checked_at`` and ``refusal_code``. Files already held were
cleaned when they were received, so they count as checked then."""

from django.db import migrations, models


def _checked_at_receipt(apps, schema_editor):
    DoorFile = apps.get_model("governance", "DoorFile")
    DoorFile.objects.filter(checked_at__isnull=True).update(checked_at=models.F("received_at"))


class Migration(migrations.Migration):
    dependencies = [("governance", "0023_watchlist_image_door")]

    operations = [
        migrations.AddField(
            model_name="doorfile",
            name="checked_at",
            field=models.DateTimeField(
                blank=True,
                null=True,
                help_text="When the worker decoded and re-encoded it (or refused it); None: checking.",
            ),
        ),
        migrations.AddField(
            model_name="doorfile",
            name="refusal_code",
            field=models.CharField(
                blank=True, max_length=60, help_text="Why the worker refused the image (its bytes are then erased)."
            ),
        ),
        migrations.RunPython(_checked_at_receipt, migrations.RunPython.noop),
    ]
