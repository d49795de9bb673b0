import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Every alert names who supplied its image (backfilled by 0003, in its own transaction)."""

    dependencies = [
        ("deployments", "0003_access_scope"),
    ]

    operations = [
        migrations.AlterField(
            model_name="alert",
            name="supplying_organisation",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="governance.organisation"
            ),
        ),
    ]
