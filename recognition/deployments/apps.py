from django.apps import AppConfig


class DeploymentsConfig(AppConfig):
    """Deployments, cameras, live matching of frames, alerts, two-person review and disclosures."""

    name = "recognition.deployments"
    label = "deployments"
    verbose_name = "Deployments and alerts"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from governance.organisations.roles import role_groups_sync_after_migrate

        # The role groups carry this app's permissions too; they exist only once this app's
        # post_migrate has created them, which is after governance's own sync has run.
        post_migrate.connect(role_groups_sync_after_migrate, sender=self, dispatch_uid="deployments-role-sync")
