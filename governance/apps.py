from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from governance.organisations.roles import role_groups_sync_after_migrate

        # Not limited to this app: permissions of apps migrated after governance (retention,
        # deployments) exist only once their own post_migrate has run.
        post_migrate.connect(role_groups_sync_after_migrate, dispatch_uid="oversight-role-groups-sync")

        _second_factor_devices_out_of_the_admin()

        from governance.ops.metrics import register as register_metrics

        register_metrics()
        # Governance's report figures (recognition registers its own) and the quarterly report task.
        # The appropriate policy document's s.42(3) retention rule (beside the DPIAs).
        # Audit events in plain words, and the pages of the records they name.
        from governance.audit import describe  # noqa: F401
        from governance.audit import transparency as audit_transparency

        # The audit log's signed tree heads in the packs, and its sequencer lag on /metrics.
        audit_transparency.register()
        from governance.dpia import policy_retention  # noqa: F401

        # Governance's panels on the role homes (recognition registers its own).
        from governance.home import panels  # noqa: F401
        from governance.reports import controller, figures, pack, tasks  # noqa: F401

        # Subject requests: governance's own subject-data providers (recognition registers its
        # own), the export task and the exported files' retention rule.
        from governance.subject_access import (  # noqa: F401
            consultation,
            photo_searches,  # noqa: F401 - the photo search's tasks
            providers,
            recipients,
            retention,
        )
        from governance.subject_access import tasks as subject_access_tasks  # noqa: F401
        from governance.subject_access.door import checks as door_checks  # noqa: F401 - the door files' tasks
        from governance.subject_access.door import retention as door_retention  # noqa: F401

        # The public door listens for the clock stopping (a code e-mailed to who asked through it).
        from governance.subject_access.door import services as door_services  # noqa: F401

        providers.register()

        # Each domain's predicates the pages ask by name (``{% if may.read_breaches %}``, governance.access).
        from governance.administration import access as administration_access  # noqa: F401
        from governance.breaches import access as breaches_access  # noqa: F401
        from governance.dpia import access as dpia_access  # noqa: F401
        from governance.reports import access as reports_access  # noqa: F401
        from governance.subject_access import access as subject_access_access  # noqa: F401


def _second_factor_devices_out_of_the_admin() -> None:
    """django-otp's admin pages for TOTP and static devices are gone (issue 26): their ``config``
    page answered 403 for an existing id and 500 for a missing one (revealing which ids exist), and
    second-factor secrets are not for any administrator to read. A second factor is set up (and
    replaced) through the sign-in's own steps; the routes are not in the URL resolver at all."""
    from django.contrib import admin
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for model in (TOTPDevice, StaticDevice):
        if admin.site.is_registered(model):
            admin.site.unregister(model)
