"""The Authorising Officers the operator once typed become historical authorisation records,
marked unverified: no account signed them, and the force they name is the one typed (or its force,
for a unit). Their reasons are the deployment's written justifications of the time."""

from django.db import migrations


def forwards(apps, schema_editor):
    Deployment = apps.get_model("deployments", "Deployment")
    DeploymentAuthorisation = apps.get_model("deployments", "DeploymentAuthorisation")
    for deployment in Deployment.objects.exclude(authorising_officer_name="").select_related(
        "authorising_officer_organisation"
    ):
        organisation = deployment.authorising_officer_organisation
        if organisation is None:
            continue
        force = organisation.parent if organisation.kind == "police_unit" and organisation.parent_id else organisation
        DeploymentAuthorisation.objects.create(
            deployment=deployment,
            force=force,
            decision="authorised",
            officer=None,
            officer_name=deployment.authorising_officer_name,
            officer_rank=deployment.authorising_officer_rank,
            verified=False,
            watchlist_criteria=deployment.watchlist_justification,
            location=deployment.location_justification,
            terms={"recorded_by_operator": True, "organisation_typed": organisation.name},
            decided_at=deployment.authorised_at,
        )


def backwards(apps, schema_editor):
    apps.get_model("deployments", "DeploymentAuthorisation").objects.filter(verified=False).delete()


class Migration(migrations.Migration):
    dependencies = [("deployments", "0009_authorisation_auth")]

    operations = [migrations.RunPython(forwards, backwards)]
