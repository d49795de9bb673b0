from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from governance.organisations.roles import role_groups_sync_after_migrate

        post_migrate.connect(role_groups_sync_after_migrate, sender=self)
